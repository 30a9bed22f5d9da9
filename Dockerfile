# syntax=docker/dockerfile:1
# The production image: web (gunicorn), worker and beat all run from it; see docker-compose.yml.

# --- Front-end assets from npm (Bootstrap, icons, htmx), by the lock file ------------------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- The application ------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --from=assets /build/node_modules ./node_modules
COPY . .

# Hashed, compressed static files, served by WhiteNoise. The key and broker below exist only
# for this build step (settings refuse to load without a key when DEBUG is off).
RUN DJANGO_DEBUG=false STATIC_MANIFEST=true \
    DJANGO_SECRET_KEY=build-time-only-collectstatic-key \
    CELERY_BROKER_URL=redis://build-time-only:6379/0 \
    python manage.py collectstatic --noinput --verbosity 1

# The code stays owned by root and read-only for the user the processes run as.
RUN useradd --system --uid 10001 --create-home --shell /usr/sbin/nologin iop \
    && install -d -o iop -g iop -m 0750 /var/log/iop
USER iop

EXPOSE 8000
# docker-compose.yml gives each service its command; this default runs the web server.
CMD ["gunicorn", "iop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--no-control-socket"]
