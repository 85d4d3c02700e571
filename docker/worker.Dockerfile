# The GPU worker image: CUDA build of PyTorch, the engine (ml/) and the service package for task code.
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 NEUROTRIAGE_STORAGE_DIR=/data/storage NEUROTRIAGE_MODEL_DEVICE=cuda
# The CUDA build (the local and CI installs pin the CPU build of the same version).
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126
WORKDIR /app
COPY constraints.txt /app/constraints.txt
COPY ml /app/ml
COPY backend /app/backend
# The versions CI tested (constraints.txt; torch's own dependencies are moved to them where they differ).
RUN pip install --no-cache-dir -c /app/constraints.txt /app/ml /app/backend
RUN useradd --system --uid 10001 neurotriage && mkdir -p /data/storage && chown -R neurotriage /data
USER neurotriage
# One worker per site schedules housekeeping (--beat); further GPU workers leave it out.
CMD ["neurotriage", "worker", "--queues", "gpu,default", "--concurrency", "1", "--beat", "--schedule-file", "/tmp/celerybeat-schedule"]
