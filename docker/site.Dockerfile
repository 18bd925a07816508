# The web clients (frontend/: student search and admin dashboard) as static files behind nginx.
# config.js, which names the APIs the browser calls, is written at container start from SITE_* variables by
# site-config.sh (the nginx image runs /docker-entrypoint.d/*.sh before nginx starts).
# Build from the repository root:  docker build -f docker/site.Dockerfile -t beuwi-site .
FROM nginx:1.27-alpine

COPY docker/nginx-site.conf /etc/nginx/conf.d/default.conf
COPY frontend/ /usr/share/nginx/html/
COPY --chmod=0755 docker/site-config.sh /docker-entrypoint.d/40-beuwi-config.sh

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/config.js"]
