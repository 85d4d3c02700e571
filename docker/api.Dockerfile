# The API image: FastAPI + SQLAlchemy + Celery client. No torch: it only sends tasks by name.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    NEUROTRIAGE_MIGRATIONS_DIR=/app/migrations \
    NEUROTRIAGE_STORAGE_DIR=/data/storage \
    NEUROTRIAGE_FRONTEND_DIST=/app/no-frontend
COPY constraints.txt /app/constraints.txt
COPY backend /app/backend
# The versions CI tested (constraints.txt), not whatever is newest on the day of the build.
RUN pip install --no-cache-dir -c /app/constraints.txt /app/backend
COPY migrations /app/migrations
COPY alembic.ini /app/alembic.ini
RUN useradd --system --uid 10001 neurotriage && mkdir -p /data/storage && chown -R neurotriage /data
USER neurotriage
EXPOSE 8000
CMD ["sh", "-c", "neurotriage migrate && neurotriage serve --host 0.0.0.0 --port 8000"]
