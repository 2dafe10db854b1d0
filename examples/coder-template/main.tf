# A Coder template for contract runs: every task gets a Docker workspace whose AI agent is standin_agent.py, a
# stand-in that speaks AgentAPI's HTTP interface and answers without a model, so a run costs no model tokens.
# Targets Coder v2.28 and later with terraform-provider-coder v2.13 and later (see README.md). Never run against
# a real Coder by its authors: check it with `terraform validate` and one task before a contract run.

terraform {
  required_providers {
    coder = {
      source = "coder/coder"
      # 2.12 added coder_ai_task.app_id (replacing the sidebar_app block), 2.13 the coder_task data source.
      version = ">= 2.13"
    }
    docker = {
      source = "kreuzwerker/docker"
    }
  }
}

provider "docker" {}

variable "busy_seconds" {
  description = "Seconds the stand-in agent works on each message (AgentAPI status running) before it replies."
  type        = number
  default     = 2
}

variable "image" {
  description = "Workspace image: needs python3 (3.10+), base64, and curl or wget for the Coder agent."
  type        = string
  default     = "codercom/enterprise-base:ubuntu"
}

locals {
  # AgentAPI's default port (coder/agentapi cmd/server/server.go).
  port = 3284
}

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

# The task's prompt (CODER_TASK_PROMPT, set by Coder v2.28+ for task builds; empty for a plain workspace).
data "coder_task" "me" {}

resource "coder_agent" "main" {
  arch = data.coder_provisioner.me.arch
  os   = "linux"
  env = {
    CTC_TASK_PROMPT = data.coder_task.me.prompt
  }
  # Installs the stand-in from this template's own copy and starts it in the background (a startup script must
  # not wait on it). The state file lives on the home volume, so a resumed task keeps its conversation and is
  # not prompted again.
  startup_script = <<-EOT
    set -eu
    mkdir -p "$HOME/.standin"
    echo '${filebase64("${path.module}/standin_agent.py")}' | base64 -d > "$HOME/.standin/standin_agent.py"
    nohup python3 "$HOME/.standin/standin_agent.py" --port ${local.port} --busy ${var.busy_seconds} \
      --initial-prompt="$${CTC_TASK_PROMPT:-}" --state-file "$HOME/.standin/conversation.json" \
      > "$HOME/.standin/agent.log" 2>&1 &
  EOT
}

# The task's app: Coder's task endpoints call its AgentAPI (send: GET /status, POST /message; logs: GET
# /messages) through the workspace agent at this URL. The task is active once the health check passes.
resource "coder_app" "standin" {
  count        = data.coder_workspace.me.start_count
  agent_id     = coder_agent.main.id
  slug         = "standin-agent"
  display_name = "Stand-in agent"
  url          = "http://localhost:${local.port}"
  share        = "owner"
  subdomain    = false
  healthcheck {
    url       = "http://localhost:${local.port}/status"
    interval  = 1
    threshold = 30
  }
}

resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.standin[count.index].id
}

resource "docker_volume" "home" {
  name = "coder-${data.coder_workspace.me.id}-home"
  lifecycle {
    ignore_changes = all
  }
  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
}

resource "docker_container" "workspace" {
  count    = data.coder_workspace.me.start_count
  image    = var.image
  name     = "coder-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
  hostname = data.coder_workspace.me.name
  user     = "coder"
  # Reach a Coder on the Docker host when its access URL is localhost.
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
  volumes {
    container_path = "/home/coder"
    volume_name    = docker_volume.home.name
    read_only      = false
  }
  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
}
