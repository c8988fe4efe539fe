# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.12-slim

# gunicorn binds 0.0.0.0:$PORT when PORT is set (platforms that read the Procfile set it).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir uv
WORKDIR /app

COPY pyproject.toml uv.lock ./
# The runtime dependencies only: no dependency group (neither "dev" nor "embedded", the
# PostgreSQL and Redis that `make run` starts on a bare machine; compose provides real ones).
RUN uv sync --frozen --no-default-groups --no-install-project

COPY . .
RUN pybabel compile --domain django --directory locale \
 && DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 skypemgr && mkdir -p /app/.data && chown -R skypemgr /app/.data
USER skypemgr

EXPOSE 8000
CMD ["gunicorn", "skypemgr.wsgi", "--workers", "3", "--access-logfile", "-"]
