#!/bin/sh
# Writes config.js, naming the APIs the browser calls, into the web root ($1, default the nginx image's).
#   SITE_ENGINE_URL              the engine as the browser reaches it (default http://localhost:8000, the load balancer)
#   SITE_ADMIN_URL               the admin API as the browser reaches it (default http://localhost:8001)
#   SITE_FIREBASE_API_KEY        the Firebase Web API key, when the admin app uses the Firebase backend (else unset)
#   SITE_FIREBASE_AUTH_EMULATOR  the Auth emulator's URL as the browser reaches it (dev profile only)
set -eu

root=${1:-/usr/share/nginx/html}

quoted() {
    case $1 in
        *[\"\\]*) echo "site-config.sh: quotes and backslashes are not allowed: $1" >&2; exit 1 ;;
    esac
    printf '"%s"' "$1"
}

firebase=null
if [ -n "${SITE_FIREBASE_API_KEY:-}" ]; then
    emulator=null
    if [ -n "${SITE_FIREBASE_AUTH_EMULATOR:-}" ]; then
        emulator=$(quoted "$SITE_FIREBASE_AUTH_EMULATOR")
    fi
    firebase="{\"apiKey\": $(quoted "$SITE_FIREBASE_API_KEY"), \"authEmulator\": $emulator}"
fi

engine=$(quoted "${SITE_ENGINE_URL:-http://localhost:8000}")
admin=$(quoted "${SITE_ADMIN_URL:-http://localhost:8001}")
echo "window.BEUWI_CONFIG = {\"engine\": $engine, \"admin\": $admin, \"firebase\": $firebase};" > "$root/config.js"
