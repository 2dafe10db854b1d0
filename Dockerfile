# The contract suite as a container image, for CI systems without Python (GitLab, Jenkins, ...):
#
#   docker build -t coder-tasks-contract .
#   docker run --rm -v "$PWD/reports:/reports" -e CODER_URL -e CODER_SESSION_TOKEN coder-tasks-contract run
#
# The entrypoint is `coder-tasks-contract`; `run` writes its reports to /reports (a volume). Every command below
# is one selftests/test_wheel.py runs too: the same `pip wheel`, the same install of the wheel, the same `run`.

FROM python:3.12-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/ src/
COPY spec/ spec/
COPY tests/ tests/
RUN python -m pip wheel --no-deps --no-cache-dir -w /wheels .

FROM python:3.12-slim
COPY --from=wheel /wheels/ /wheels/
RUN python -m pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 ctc \
    && mkdir /reports \
    && chown ctc /reports
USER ctc
WORKDIR /home/ctc
# Reports in the volume; deterministic generated cases, so a red run can be rerun identically (override with -e).
ENV CODER_TASKS_REPORTS_DIR=/reports \
    HYPOTHESIS_PROFILE=ci \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/reports"]
ENTRYPOINT ["coder-tasks-contract"]
CMD ["run"]
