# Development only (compose profile `dev`): the Firebase emulators for Auth, Firestore and Storage, from the
# firebase-tools version pinned in package-lock.json. The Firestore emulator and the Storage rules runtime are Java
# programs, fetched at build time.
# Build from the repository root:  docker build -f docker/firebase.Dockerfile -t beuwi-firebase .
FROM node:20-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /emulators
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && chown -R node:node /emulators
COPY docker/firebase.json docker/storage.rules ./

USER node
RUN npx firebase setup:emulators:firestore && npx firebase setup:emulators:storage
EXPOSE 8080 9099 9199
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "Promise.all([8080, 9099, 9199].map(p => fetch(`http://127.0.0.1:${p}/`))).then(() => process.exit(0), () => process.exit(1))"]
CMD ["npx", "firebase", "emulators:start", "--project", "demo-beuwi", "--only", "auth,firestore,storage"]
