// Where the two JSON APIs live. `beuwi dev` serves its own copy with the ports it started;
// a deployment (e.g. Firebase Hosting) replaces this file.
window.BEUWI_CONFIG = {
  engine: "http://127.0.0.1:8000",
  admin: "http://127.0.0.1:8001",
  // Firebase sign-in for the admin dashboard: {apiKey, authEmulator} when the admin app uses the Firebase backend.
  firebase: null,
};
