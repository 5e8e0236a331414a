# cnnviz in a container: one replica. deploy/compose.yaml runs several behind nginx.
#   docker build -t cnnviz .
#   docker run -p 8501:8501 cnnviz
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Two malloc arenas, not one per thread that allocates at once: glibc keeps what an arena
    # freed, so a class rerunning together left the server ~40 MB larger for good (bench/RESULTS.md).
    MALLOC_ARENA_MAX=2 \
    # Every interface of the container (Docker may have no IPv6 for Streamlit's default "::").
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501

WORKDIR /app

# torch 2.13.0 from PyTorch's CPU index: the default index's wheel pulls gigabytes of CUDA.
# requirements.txt pins torch==2.13.0 too, which 2.13.0+cpu satisfies, so pip keeps it.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install -r requirements.txt

RUN useradd --create-home --uid 10001 cnnviz
COPY --chown=root:root . .
USER cnnviz

EXPOSE 8501
# Streamlit's own health check; nginx, compose and Kubernetes use the same path.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() != b'ok')"]

# As `make run` starts it: .streamlit/config.toml configures everything else.
CMD ["python", "-m", "streamlit", "run", "app.py"]
