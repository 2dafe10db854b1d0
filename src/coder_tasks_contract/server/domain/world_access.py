"""Who the fake Coder's callers are and what they can find: seeding organizations, users, session tokens and
templates; authenticating a token; resolving the ``{user}`` and ``{task}`` path segments (USER-1 to USER-3, TASKREF-1 to
TASKREF-5, AUTH-1); and the list query (LIST-1 to LIST-4, QUERY-1 to QUERY-15)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from coder_tasks_contract.server.domain.auth import AuthFailure, split_token
from coder_tasks_contract.server.domain.entities import ApiKey, Organization, Task, Template, TemplateVersion, User
from coder_tasks_contract.server.domain.errors import InternalError, NotFound, refusal
from coder_tasks_contract.server.domain.query import TaskFilter, parse_task_query
from coder_tasks_contract.server.domain.world_base import TASK_STATUSES, WorldBase, db_text, new_id
from coder_tasks_contract.server.golang.gofmt import go_quote, try_uuid

_TOKEN_ALPHABET = string.ascii_letters + string.digits


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


class AccessMixin(WorldBase):
    """Seeding, authentication, path-segment resolution and listing, for ``World``."""

    # ---- seeding -------------------------------------------------------------------------------------------

    def add_organization(self, name: str, display_name: str) -> Organization:
        with self.lock:
            org = Organization(new_id(), name, display_name, self.now())
            self.organizations[org.id] = org
            return org

    def add_user(self, username: str, name: str, email: str, *, owner: bool = False) -> tuple[User, str]:
        """A user in every organization, with a fresh session token of Coder's shape (returned, not stored)."""
        with self.lock:
            user = User(new_id(), username, email, name, self.now(), is_owner=owner)
            user.organization_ids = list(self.organizations)
            self.users[user.id] = user
            return user, self.issue_token(user)

    def issue_token(self, user: User) -> str:
        with self.lock:
            key_id = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(10))
            secret = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(22))
            self.api_keys[key_id] = ApiKey(key_id, _hash(secret), user.id)
            return f"{key_id}-{secret}"

    def add_template(
        self, org: Organization, name: str, display_name: str, icon: str, description: str, *, ai_task: bool
    ) -> TemplateVersion:
        with self.lock:
            now = self.now()
            version_id = new_id()
            template = Template(new_id(), org.id, name, display_name, icon, description, version_id, now)
            version = TemplateVersion(version_id, template.id, name + "-v1", ai_task, now)
            self.templates[template.id] = template
            self.template_versions[version.id] = version
            return version

    # ---- authentication and visibility (AUTH-1, USER-3, RBAC-1) ------------------------------------------------

    def authenticate(self, token: str) -> User:
        """The user a session token belongs to, or ``AuthFailure`` with Coder's detail."""
        key_id, secret = split_token(token)
        with self.lock:
            key = self.api_keys.get(key_id)
            if key is None:
                raise AuthFailure("API key is invalid.")
            if not hmac.compare_digest(key.secret_hash, _hash(secret)):
                raise AuthFailure("API key secret is invalid.")
            return self.users[key.user_id]

    def resolve_user(self, actor: User, raw: str) -> User:
        """The ``{user}`` path segment (USER-1): ``me``, a UUID or a username (case-insensitive)."""
        with self.lock:
            if raw == "me":
                return actor
            user_id = try_uuid(raw)
            if user_id is not None:
                user = self.users.get(user_id)
            else:
                user = next((u for u in self.users.values() if u.username.lower() == raw.lower()), None)
            if user is None:
                # 400 with the value quoted as Go's %q at 82f525baf3; 404 since #22069 (the level says which).
                answer = self.level.unknown_user
                raise refusal(answer, f"queried user={go_quote(raw)}" if answer.detail else "")
            if not self.can_read_user(actor, user):
                raise NotFound()
            return user

    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        """The ``{task}`` path segment (TASKREF-1, TASKREF-2): a task UUID the caller may read (whatever ``{user}``
        says), else a task name of ``owner`` (case-insensitive); deleted tasks are never found."""
        with self.lock:
            task_id = try_uuid(raw)
            if task_id is not None:
                task = self.tasks.get(task_id)
                if task is not None and task.deleted_at is None and self.can_access_task(actor, task):
                    return task
            db_text(raw, "Internal error fetching task.")
            for task in self.tasks.values():
                if task.owner_id == owner.id and task.deleted_at is None and task.name.lower() == raw.lower():
                    return task
            raise NotFound()

    # ---- list (LIST-1, QUERY-8) -------------------------------------------------------------------------------

    def parse_query(self, actor: User, q: str) -> TaskFilter:
        with self.lock:

            def user_id_by_name(name: str) -> str | None:
                for user in self.users.values():
                    if user.username.lower() == name and self.can_read_user(actor, user):
                        return user.id
                return None

            def org_id_by_name(name: str) -> str | None:
                for org in self.organizations.values():
                    if org.name.lower() == name and (actor.is_owner or org.id in actor.organization_ids):
                        return org.id
                return None

            return parse_task_query(
                q, actor_id=actor.id, user_id_by_name=user_id_by_name, org_id_by_name=org_id_by_name
            )

    def list_tasks(self, actor: User, task_filter: TaskFilter) -> list[Task]:
        """Live tasks the caller may read that match the filter, newest first. An unknown status is a database
        error in Coder (the enum cast fails), reported as 500 (inferred, QUERY-15)."""
        with self.lock:
            if task_filter.status is not None and task_filter.status not in TASK_STATUSES:
                raise InternalError(
                    "Internal error fetching tasks.",
                    f"pq: invalid input value for enum task_status: {go_quote(task_filter.status)}",
                )
            now = self.now()
            found = [
                task
                for task in self.tasks.values()
                if task.deleted_at is None
                and self.can_access_task(actor, task)
                and task_filter.owner_id in (None, task.owner_id)
                and task_filter.organization_id in (None, task.organization_id)
                and task_filter.status in (None, self.task_status(task, now))
            ]
            return sorted(found, key=lambda task: (task.created_at, task.id), reverse=True)
