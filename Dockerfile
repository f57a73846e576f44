# Production image: gunicorn serves the web app, the same image runs Celery
# (docker-compose.yml). Two stages: the builder installs the locked production
# dependencies (requirements/base.txt, every file checked against its hash) in
# a virtualenv; the runtime stage copies only that virtualenv and the code, and
# runs as an unprivileged user. No compiler, pip cache or embedded servers
# (the `embedded` extra is development only) reach the final image.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements.txt
# Wheels only: every locked package ships one for CPython 3.11 on Linux, so
# nothing is compiled and the builder needs no toolchain either.
RUN /opt/venv/bin/pip install --require-hashes --only-binary :all: --no-deps -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
RUN useradd --system --create-home --uid 10001 flattr
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code and static files stay root's, readable but not writable by the
# user the processes run as (nothing under /app is written at run time).
COPY . .
# Static files are collected at build time; the values given here exist only
# so the settings load (with DEBUG off they refuse to start without them, and
# refuse a weak key: a throwaway random one is made for this step).
RUN DEBUG=0 SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --no-input \
    && python -m compileall -q /app
USER flattr
EXPOSE 8000
CMD ["gunicorn", "flattr_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
