// Programme Admin Dashboard: sign in, upload catalogues (CSV or Excel), read their row errors, review what each
// changes, try it as a student, activate now or on a schedule, roll back, delete, and read the audit log; each as the
// signed-in person's role allows (GET /api/me). Talks only to the admin API named by /config.js (and asks the engine
// what students see and which subjects exist). No build step.

import { fill, h, plural } from "../shared/dom.js";
import { againstText, diffNodes, diffSentence } from "./diff.js";
import { studentPreview } from "./preview.js";

const CONFIG = window.BEUWI_CONFIG || {};
const ADMIN = String(CONFIG.admin || "").replace(/\/+$/, "");
const ENGINE = String(CONFIG.engine || "").replace(/\/+$/, "");
const FIREBASE = CONFIG.firebase && CONFIG.firebase.apiKey ? CONFIG.firebase : null;
const SESSION_KEY = "beuwi.admin.session";

const $ = (id) => document.getElementById(id);
const els = {
  signin: $("signin"), signinForm: $("signin-form"), signinError: $("signin-error"), signinButton: $("signin-button"),
  firebaseFields: $("firebase-fields"), tokenFields: $("token-fields"), email: $("email"), password: $("password"), token: $("token"),
  dashboard: $("dashboard"), signedInAs: $("signed-in-as"), signOut: $("sign-out"), main: $("main"),
  status: $("status"), liveActive: $("live-active"), liveEngine: $("live-engine"),
  dropZone: $("drop-zone"), fileInput: $("file-input"), uploadProgress: $("upload-progress"), progress: $("progress"),
  uploadName: $("upload-name"), uploadPercent: $("upload-percent"), uploadResult: $("upload-result"),
  uploadsBody: $("uploads-body"), uploadsEmpty: $("uploads-empty"), uploadsLoading: $("uploads-loading"),
  uploadsCount: $("uploads-count"), refresh: $("refresh"),
  confirm: $("confirm"), confirmTitle: $("confirm-title"), confirmBody: $("confirm-body"), confirmOk: $("confirm-ok"),
  errors: $("errors"), errorsTitle: $("errors-title"), errorsSummary: $("errors-summary"), errorsRows: $("errors-rows"),
  errorsLoading: $("errors-loading"), errorsNone: $("errors-none"), errorsDownload: $("errors-download"),
  roleNote: $("role-note"), uploadCard: $("upload-card"), audit: $("audit"), auditEmpty: $("audit-empty"), auditMore: $("audit-more"),
  diff: $("diff"), diffTitle: $("diff-title"), diffAgainst: $("diff-against"), diffBody: $("diff-body"), diffActions: $("diff-actions"),
  schedule: $("schedule"), scheduleForm: $("schedule-form"), scheduleTitle: $("schedule-title"), scheduleDiff: $("schedule-diff"),
  scheduleAt: $("schedule-at"), scheduleZone: $("schedule-zone"), scheduleError: $("schedule-error"),
  preview: $("preview"), previewTitle: $("preview-title"), previewLead: $("preview-lead"),
};
const errorsTable = document.querySelector("[data-testid=errors-table]");

let session = readSession();
let me = null;        // GET /api/me: {name, role, may: {upload, delete, activate, schedule}}
let uploads = [];
let highlight = null; // the id of the upload just made, marked in the table
let audit = [], auditAll = false;
const AUDIT_SHOWN = 20;

/* ---------- small helpers ---------- */

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
function readableTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso || "") : dateFormat.format(date);
}

/* ---------- session and API calls ---------- */

class ApiError extends Error {
  constructor(message, status, body = {}) { super(message); this.status = status; this.body = body; }
}

function readSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || null; } catch { return null; }
}

function saveSession(value) {
  session = value;
  if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(SESSION_KEY);
}

function identityUrl(host, path) {
  const base = FIREBASE.authEmulator ? `${String(FIREBASE.authEmulator).replace(/\/+$/, "")}/${host}` : `https://${host}`;
  return `${base}${path}?key=${encodeURIComponent(FIREBASE.apiKey)}`;
}

const FIREBASE_MESSAGES = {
  EMAIL_NOT_FOUND: "No account has that email address.",
  INVALID_PASSWORD: "The password is wrong.",
  INVALID_LOGIN_CREDENTIALS: "The email or password is wrong.",
  INVALID_EMAIL: "That is not a valid email address.",
  MISSING_PASSWORD: "Enter your password.",
  USER_DISABLED: "This account has been disabled.",
  TOO_MANY_ATTEMPTS_TRY_LATER: "Too many attempts; try again later.",
};

async function firebaseSignIn(email, password) {
  let response;
  try {
    response = await fetch(identityUrl("identitytoolkit.googleapis.com", "/v1/accounts:signInWithPassword"), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password, returnSecureToken: true }),
    });
  } catch {
    throw new ApiError("Cannot reach the sign-in service; check your connection and try again.", 0);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(body.error?.message || "").split(" ")[0];
    throw new ApiError(FIREBASE_MESSAGES[code] || body.error?.message || `sign-in failed (HTTP ${response.status})`, response.status);
  }
  return { kind: "firebase", token: body.idToken, refreshToken: body.refreshToken, email: body.email || email,
           expires: Date.now() + Number(body.expiresIn || 3600) * 1000 };
}

/** Firebase ID tokens last an hour; swap the refresh token for a new one before it runs out. */
async function refreshFirebase() {
  const response = await fetch(identityUrl("securetoken.googleapis.com", "/v1/token"), {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: session.refreshToken }),
  });
  if (!response.ok) throw new ApiError("Your session has ended; sign in again.", 401);
  const body = await response.json();
  saveSession({ ...session, token: body.id_token, refreshToken: body.refresh_token,
                expires: Date.now() + Number(body.expires_in || 3600) * 1000 });
}

async function freshToken() {
  if (session?.kind === "firebase" && session.expires - Date.now() < 60_000) await refreshFirebase();
  return session?.token;
}

async function errorFrom(response) {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (body.error) return new ApiError(body.error, response.status, body);
  } catch { /* not JSON */ }
  return new ApiError(`the admin API answered HTTP ${response.status}`, response.status);
}

/** One admin API call with the bearer token; failures become ApiError carrying the API's own message. */
async function api(path, options = {}, retried = false) {
  const token = await freshToken();
  let response;
  try {
    const headers = { Authorization: `Bearer ${token}`, ...(options.json ? { "Content-Type": "application/json" } : {}) };
    const body = options.json ? JSON.stringify(options.json) : options.body;
    response = await fetch(ADMIN + path, { ...options, body, cache: "no-store", headers });
  } catch {
    throw new ApiError(`Cannot reach the admin API at ${ADMIN || "(not configured)"}; is it running?`, 0);
  }
  if (response.status === 401 && session?.kind === "firebase" && !retried) {
    await refreshFirebase();
    return api(path, options, true);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

const apiJson = async (path, options) => (await api(path, options)).json();

/* ---------- sign-in ---------- */

function showSignIn(message = "") {
  els.dashboard.hidden = true;
  els.signin.hidden = false;
  els.signOut.hidden = true;
  els.signedInAs.hidden = true;
  els.firebaseFields.hidden = !FIREBASE;
  els.tokenFields.hidden = Boolean(FIREBASE);
  setSignInError(message);
  (FIREBASE ? els.email : els.token).focus();
}

function setSignInError(message) {
  els.signinError.textContent = message;
  els.signinError.hidden = !message;
  for (const input of [els.email, els.password, els.token]) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

async function signIn(event) {
  event.preventDefault();
  setSignInError("");
  els.signinButton.disabled = true;
  els.signinButton.textContent = "Signing in…";
  try {
    if (FIREBASE) {
      if (!els.email.value.trim() || !els.password.value) throw new ApiError("Enter your email and password.", 400);
      saveSession(await firebaseSignIn(els.email.value.trim(), els.password.value));
    } else {
      if (!els.token.value.trim()) throw new ApiError("Enter the admin token.", 400);
      saveSession({ kind: "token", token: els.token.value.trim() });
    }
    await loadMe(); // proves the credentials: 401 or 403 lands in the catch
    await loadUploads();
    els.password.value = "";
    els.token.value = "";
    showDashboard();
  } catch (error) {
    saveSession(null);
    setSignInError(error.message);
  } finally {
    els.signinButton.disabled = false;
    els.signinButton.textContent = "Sign in";
  }
}

function signOut(message = "") {
  saveSession(null);
  me = null;
  uploads = [];
  els.uploadsBody.replaceChildren();
  hideStatus();
  clearUploadResult();
  showSignIn(message);
}

function showDashboard() {
  els.signin.hidden = true;
  els.dashboard.hidden = false;
  els.signOut.hidden = false;
  els.signedInAs.hidden = false;
  els.signedInAs.textContent = me?.name || (session.kind === "firebase" ? session.email : "Signed in with token");
  els.main.focus({ preventScroll: true });
}

const ROLE_CAN = {
  viewer: "you can read the uploads, what each changes, their errors and the audit log, and try them as a student",
  editor: "you can also upload catalogues and delete inactive ones; a publisher activates them",
  publisher: "you can upload, activate, schedule and roll back catalogues",
};

/** Who is signed in and what their role lets them do; the controls it does not allow are left out. */
async function loadMe() {
  me = await apiJson("/api/me");
  els.signedInAs.textContent = me.name;
  fill(els.roleNote, "Signed in as ", h("strong", { dataset: { testid: "me-name" } }, me.name), " with the ",
    h("strong", { dataset: { testid: "me-role" } }, me.role), " role: ", ROLE_CAN[me.role] || "", ".");
  els.roleNote.hidden = false;
  els.uploadCard.hidden = !me.may.upload;
}

/** Any call that finds the session gone sends the user back to the sign-in form, saying why. */
function failed(error, doing) {
  if (error.status === 401 || error.status === 403) {
    signOut(error.message);
    return;
  }
  setStatus("error", doing ? `${doing} failed: ${error.message}` : error.message);
}

/* ---------- status message ---------- */

function setStatus(kind, message) {
  els.status.className = `status status-${kind}`;
  els.status.textContent = message;
  els.status.hidden = false;
}

function hideStatus() {
  els.status.hidden = true;
  els.status.textContent = "";
}

/* ---------- the uploads table ---------- */

async function loadUploads() {
  els.uploadsLoading.hidden = uploads.length > 0;
  try {
    uploads = (await apiJson("/api/uploads")).uploads;
  } finally {
    els.uploadsLoading.hidden = true;
  }
  renderUploads();
  checkEngine();
  loadAudit();
}

async function refresh() {
  try {
    if (!me) await loadMe();
    await loadUploads();
    return true;
  } catch (error) {
    failed(error, "Loading the uploads");
    return false;
  }
}

function renderUploads() {
  const focused = document.activeElement?.closest?.("[data-upload-id]") && document.activeElement.dataset.testid
    ? [document.activeElement.closest("[data-upload-id]").dataset.uploadId, document.activeElement.dataset.testid] : null;
  els.uploadsBody.replaceChildren(...uploads.map(uploadRow));
  els.uploadsEmpty.hidden = uploads.length > 0;
  els.uploadsCount.textContent = uploads.length ? String(uploads.length) : "";
  const active = uploads.find((u) => u.active);
  els.liveActive.replaceChildren(
    h("span", { class: `dot ${active ? "dot-ok" : "dot-warn"}`, "aria-hidden": "true" }),
    h("span", {}, h("span", { class: "live-main mono" }, active ? active.id : "none yet"),
      h("span", { class: "live-sub" }, active ? plural(active.programmes, "programme") : "no upload activated")),
  );
  if (focused) {
    const again = els.uploadsBody.querySelector(`[data-upload-id="${CSS.escape(focused[0])}"] [data-testid="${focused[1]}"]`);
    (again || els.refresh).focus();
  }
}

const filePath = (upload, which) => `/api/uploads/${encodeURIComponent(upload.id)}/${which}`;

function downloadIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M10 3v9m0 0l-3.5-3.5M10 12l3.5-3.5M4 15.5h12");
  for (const [k, v] of Object.entries({ fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" })) {
    path.setAttribute(k, v);
  }
  svg.append(path);
  return svg;
}

const READ_STATUS = { parsed: "Parsed", failed: "Failed", missing: "Missing" };

function uploadRow(upload) {
  const failedRead = upload.status !== "parsed"; // failed, or missing: its version is gone from the graph
  const idLabel = `upload ${upload.id}`;
  const usable = !failedRead && upload.programmes > 0;
  const may = me?.may || {};
  const main = [], files = []; // state changes and reviews, then the files: two groups that wrap as units
  const button = (testid, label, text, onclick, kind = "btn-secondary") =>
    h("button", { type: "button", class: `btn ${kind}`, dataset: { testid }, "aria-label": `${label} ${idLabel}`, onclick }, text);
  if (upload.active) main.push(h("span", { class: "active-note" }, "Serving students"));
  else if (usable && !upload.scheduled_at) {
    if (may.activate) main.push(button("activate", "Activate", "Activate", () => activate(upload), "btn-primary"));
    if (may.schedule) main.push(button("schedule", "Schedule the activation of", "Schedule", () => scheduleActivation(upload)));
  }
  if (usable && !upload.active) main.push(button("review", "What activating changes:", "Changes", () => showDiff(upload)));
  if (usable) main.push(button("try", "Try it as a student:", "Try it", () => tryUpload(upload)));
  if (upload.errors > 0) {
    main.push(h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "view-errors" },
      "aria-label": `View the errors of ${idLabel}`, onclick: () => showErrors(upload) }, "View errors"));
  }
  files.push(
    h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "download-source" },
      "aria-label": `Download the source file of ${idLabel}`, title: `Download ${upload.filename}`,
      onclick: () => download(filePath(upload, "source"), upload.filename || `${upload.id}.csv`) },
      downloadIcon(), "Source"),
    h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "download-errors" },
      "aria-label": `Download the errors CSV of ${idLabel}`, disabled: upload.errors === 0,
      title: upload.errors ? `Download ${upload.id}-errors.csv` : "No row errors to download",
      onclick: () => download(filePath(upload, "errors"), `${upload.id}-errors.csv`) },
      downloadIcon(), "Errors"),
  );
  if (!upload.active && !upload.scheduled_at && may.delete) {
    files.push(h("button", { type: "button", class: "btn btn-danger-outline", dataset: { testid: "delete" },
      "aria-label": `Delete ${idLabel}`, onclick: () => remove(upload) }, "Delete"));
  }

  const classes = [upload.active && "is-active", upload.id === highlight && "is-new"].filter(Boolean).join(" ");
  return h("tr", { class: classes || null, dataset: { uploadId: upload.id, testid: "upload-row" } },
    h("td", { class: "cell-id", dataset: { label: "Upload" } },
      h("span", { class: "upload-id" }, h("span", { dataset: { testid: "upload-id" } }, upload.id),
        upload.active && h("span", { class: "badge badge-active", dataset: { testid: "active-badge" } }, "Active")),
      h("span", { class: "filename", title: upload.filename }, upload.filename)),
    h("td", { dataset: { label: "Created" } },
      h("span", { class: "status-cell" },
        h("time", { class: "created", datetime: upload.created, title: upload.created }, readableTime(upload.created)),
        upload.uploaded_by && h("span", { class: "by" }, `by ${upload.uploaded_by}`),
        upload.active && upload.activated_at && h("span", { class: "by", dataset: { testid: "activated" } },
          `activated ${readableTime(upload.activated_at)}${upload.activated_by ? ` by ${upload.activated_by}` : ""}`))),
    h("td", { dataset: { label: "Read status" } },
      h("span", { class: "status-cell" },
        h("span", { class: `badge ${failedRead ? "badge-failed" : "badge-ok"}`, dataset: { testid: "read-status" } },
          READ_STATUS[upload.status] || upload.status),
        failedRead && upload.message && h("span", { class: "status-message", dataset: { testid: "read-message" } }, upload.message))),
    h("td", { class: "num", dataset: { label: "Programmes", testid: "programmes" } }, upload.programmes.toLocaleString()),
    h("td", { class: "num", dataset: { label: "Errors", testid: "errors" } },
      h("span", { class: upload.errors ? "errors-some" : "errors-none" }, upload.errors.toLocaleString())),
    h("td", { class: "cell-actions", dataset: { label: "Actions" } }, h("div", { class: "actions" },
      upload.scheduled_at ? scheduleNote(upload) : null,
      main.length ? h("div", { class: "action-group action-main" }, main) : null,
      h("div", { class: "action-group action-files" }, files))),
  );
}

/* ---------- what the engine serves ---------- */

async function engineNow() {
  const response = await fetch(`${ENGINE}/api/programmes`, { cache: "no-store" });
  if (!response.ok) throw await errorFrom(response);
  const body = await response.json();
  return { catalogue: body.catalogue, programmes: body.programmes.length };
}

async function checkEngine() {
  if (!ENGINE) {
    els.liveEngine.textContent = "not configured";
    return null;
  }
  try {
    const now = await engineNow();
    els.liveEngine.replaceChildren(h("span", { class: "dot dot-ok", "aria-hidden": "true" }),
      h("span", { title: `catalogue ${now.catalogue}` }, h("span", { class: "live-main" }, "Live"),
        h("span", { class: "live-sub" }, plural(now.programmes, "programme"))));
    return now;
  } catch {
    els.liveEngine.replaceChildren(h("span", { class: "dot dot-bad", "aria-hidden": "true" }),
      h("span", {}, h("span", { class: "live-main" }, "Unreachable"), h("span", { class: "live-sub" }, "check the engine")));
    return null;
  }
}

/** The engine notices a new active version within a second or so; wait for it so the message is true. */
async function waitForEngine(id) {
  for (let i = 0; i < 20; i++) {
    const now = await checkEngine();
    if (now?.catalogue === id) return now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

/* ---------- actions ---------- */

/** An accessible yes/no question in a <dialog>; resolves true only when the user confirms. */
function confirmAction({ title, body, ok, danger = false }) {
  els.confirmTitle.textContent = title;
  els.confirmBody.replaceChildren(...body.map((text) => h("p", {}, text)));
  els.confirmOk.textContent = ok;
  els.confirmOk.className = `btn ${danger ? "btn-danger" : "btn-primary"}`;
  els.confirm.returnValue = "";
  return new Promise((resolve) => {
    els.confirm.addEventListener("close", () => resolve(els.confirm.returnValue === "confirm"), { once: true });
    els.confirm.showModal();
    els.confirm.querySelector("[data-testid=confirm-cancel]").focus();
  });
}

/** What activating `upload` changes, or null (with the reason said) when the admin API cannot tell. */
async function diffOf(upload) {
  try {
    return await apiJson(`${filePath(upload, "diff")}?against=active`);
  } catch (error) {
    if (error.status === 401) throw error;
    return { failed: error.message };
  }
}

const diffLine = (diff) => (diff.failed ? `What it changes could not be worked out: ${diff.failed}.` : diffSentence(diff));

async function activate(upload) {
  const current = uploads.find((u) => u.active);
  const older = current && upload.created < current.created;
  let diff;
  try {
    diff = await diffOf(upload);
  } catch (error) {
    failed(error, `Activating ${upload.id}`);
    return;
  }
  const ok = await confirmAction({
    title: older ? `Roll back to ${upload.id}?` : `Activate ${upload.id}?`,
    body: [
      diffLine(diff),
      `Students will see the ${plural(upload.programmes, "programme")} of ${upload.filename} within a few seconds.`,
      current ? `${current.id} (${plural(current.programmes, "programme")}) stops being served; you can activate it again at any time.`
              : "It replaces the catalogue the student page serves now.",
      upload.errors ? `${plural(upload.errors, "row")} of this file had errors and are not included.` : null,
    ].filter(Boolean),
    ok: older ? "Roll back" : "Activate",
  });
  if (!ok) return;
  setStatus("info", `Activating ${upload.id}…`);
  try {
    const done = await apiJson(`/api/uploads/${encodeURIComponent(upload.id)}/activate`, { method: "POST" });
    highlight = null;
    clearUploadResult();
    await loadUploads();
    const seen = await waitForEngine(done.id);
    setStatus("ok", seen
      ? `Activated ${done.id}: students now see ${plural(seen.programmes, "programme")}.`
      : `Activated ${done.id} (${plural(done.programmes, "programme")}); the student page has not picked it up yet.`);
  } catch (error) {
    failed(error, `Activating ${upload.id}`);
    refresh();
  }
}

/* ---------- what an upload changes ---------- */

async function showDiff(upload) {
  els.diffTitle.textContent = `What activating ${upload.id} changes`;
  els.diffAgainst.textContent = upload.filename;
  fill(els.diffBody, h("p", { class: "muted", text: "Working out the changes…" }));
  fill(els.diffActions,
    h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "diff-try" },
      onclick: () => { els.diff.close(); tryUpload(upload); } }, "Try as a student"),
    me?.may.activate && !upload.scheduled_at ? h("button", { type: "button", class: "btn btn-primary", dataset: { testid: "diff-activate" },
      onclick: () => { els.diff.close(); activate(upload); } }, "Activate…") : null,
    h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "diff-close" }, onclick: () => els.diff.close() }, "Close"));
  els.diff.showModal();
  $("diff-close-x").focus();
  try {
    const diff = await apiJson(`${filePath(upload, "diff")}?against=active`);
    els.diffAgainst.textContent = `${upload.filename}. ${againstText(diff)}`;
    fill(els.diffBody, diffNodes(diff));
  } catch (error) {
    els.diff.close();
    failed(error, `Comparing ${upload.id}`);
  }
}

/* ---------- try as a student ---------- */

let showPreview = null;

async function tryUpload(upload) {
  showPreview ||= studentPreview($("preview-host"), {
    subjects: async () => {
      const response = await fetch(`${ENGINE}/api/subjects`, { headers: { Accept: "application/json" } });
      if (!response.ok) throw await errorFrom(response);
      return response.json();
    },
    search: (id, subjects) => apiJson(`/api/uploads/${encodeURIComponent(id)}/search`, { method: "POST", json: { subjects } }),
  });
  els.previewTitle.textContent = `Try ${upload.id} as a student`;
  els.previewLead.textContent = upload.active
    ? `${upload.filename}: the catalogue students see now.`
    : `${upload.filename}: what students would see once it is active. Students cannot see it yet.`;
  els.preview.showModal();
  await showPreview(upload);
}

/* ---------- scheduled activation ---------- */

/** "2026-12-02T09:00:00-04:00": a local date and time with this browser's offset, as the admin API wants it. */
function isoWithOffset(date) {
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}:${pad(date.getSeconds())}${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/** The value a datetime-local input shows for a Date, in local time. */
const localInput = (date) => isoWithOffset(date).slice(0, 16);

async function scheduleActivation(upload) {
  els.scheduleTitle.textContent = `Schedule the activation of ${upload.id}`;
  els.scheduleZone.textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  els.scheduleError.hidden = true;
  els.scheduleAt.removeAttribute("aria-invalid");
  const soon = new Date(Date.now() + 60 * 60_000);
  soon.setMinutes(0, 0, 0);
  els.scheduleAt.value = localInput(soon);
  els.scheduleAt.min = localInput(new Date());
  els.scheduleDiff.textContent = "Working out the changes…";
  els.schedule.returnValue = "";
  els.schedule.showModal();
  els.scheduleAt.focus();
  diffOf(upload).then((diff) => { els.scheduleDiff.textContent = diffLine(diff); }, () => { els.scheduleDiff.textContent = ""; });
  els.scheduleForm.onsubmit = async (event) => {  // Schedule, or Enter in the time field
    event.preventDefault();
    const at = els.scheduleAt.value ? new Date(els.scheduleAt.value) : null;
    const problem = !at || Number.isNaN(at.getTime()) ? "Choose a date and a time."
      : at.getTime() <= Date.now() ? "Choose a time in the future." : "";
    if (!problem) {
      try {
        const done = await apiJson(`/api/uploads/${encodeURIComponent(upload.id)}/activate`,
          { method: "POST", json: { at: isoWithOffset(at) } });
        els.schedule.close();
        await loadUploads();
        setStatus("ok", `Scheduled ${done.id} to be activated ${readableTime(done.scheduled_at)}.`);
        return;
      } catch (error) {
        if (error.status === 401) { els.schedule.close(); failed(error); return; }
        els.scheduleError.textContent = error.message;
      }
    } else els.scheduleError.textContent = problem;
    els.scheduleError.hidden = false;
    els.scheduleAt.setAttribute("aria-invalid", "true");
    els.scheduleAt.focus();
  };
}

/** "in 2 h 05 min", "in 4 min 09 s", "in 12 s", "due now". */
function countdown(ms) {
  if (ms <= 0) return "due now";
  const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60), sec = s % 60, two = (n) => String(n).padStart(2, "0");
  if (d) return `in ${d} d ${hr} h`;
  if (hr) return `in ${hr} h ${two(min)} min`;
  return min ? `in ${min} min ${two(sec)} s` : `in ${sec} s`;
}

function scheduleNote(upload) {
  return h("div", { class: "schedule-note", dataset: { testid: "scheduled" } },
    h("span", {}, "Activates ", h("time", { datetime: upload.scheduled_at, dataset: { testid: "scheduled-at" } }, readableTime(upload.scheduled_at)),
      " (", h("span", { role: "timer", dataset: { testid: "countdown", due: upload.scheduled_at } },
        countdown(Date.parse(upload.scheduled_at) - Date.now())), ")",
      upload.scheduled_by ? ` · scheduled by ${upload.scheduled_by}` : ""),
    me?.may.schedule ? h("button", { type: "button", class: "btn btn-secondary btn-small", dataset: { testid: "cancel-schedule" },
      "aria-label": `Cancel the scheduled activation of upload ${upload.id}`, onclick: () => cancelSchedule(upload) }, "Cancel schedule") : null);
}

async function cancelSchedule(upload) {
  try {
    await api(`${filePath(upload, "schedule")}`, { method: "DELETE" });
    await loadUploads();
    setStatus("ok", `Cancelled the scheduled activation of ${upload.id}.`);
  } catch (error) {
    failed(error, `Cancelling the schedule of ${upload.id}`);
    refresh();
  }
}

let watching = false;  // a due schedule being waited for

/** Each second: the countdowns move; once one is due, the list is reloaded until the admin app has activated it. */
function tick() {
  const timers = [...document.querySelectorAll("[data-testid=countdown]")];
  for (const timer of timers) timer.textContent = countdown(Date.parse(timer.dataset.due) - Date.now());
  const due = uploads.find((u) => u.scheduled_at && Date.parse(u.scheduled_at) <= Date.now());
  if (due && !watching) watchSchedule(due.id);
}

async function watchSchedule(id) {
  watching = true;
  try {
    for (let i = 0; i < 60 && session; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await loadUploads();
      const now = uploads.find((u) => u.id === id);
      if (!now?.scheduled_at) {
        if (now?.active) {
          const seen = await waitForEngine(id);
          setStatus("ok", `Activated ${id} on schedule${seen ? `: students now see ${plural(seen.programmes, "programme")}` : ""}.`);
        } else if (now) setStatus("error", `The scheduled activation of ${id} did not happen; the audit log says why.`);
        return;
      }
    }
  } catch (error) {
    failed(error, "Reloading the uploads");
  } finally {
    watching = false;
  }
}

/* ---------- audit log ---------- */

const ACTIONS = {
  upload: "uploaded", activate: "activated", "activate-failed": "tried to activate (it failed)",
  "activate-refused": "was refused activating", schedule: "scheduled the activation of",
  "schedule-cancel": "cancelled the scheduled activation of", "activate-scheduled": "activated on schedule",
  delete: "deleted", "delete-refused": "was refused deleting", refused: "lacked the role for a change to", repair: "repaired the record of", purge: "purged the crashed load",
};

async function loadAudit() {
  try {
    audit = (await apiJson("/api/audit")).entries;
  } catch (error) {
    fill(els.audit);
    els.auditEmpty.textContent = `The audit log could not be loaded: ${error.message}`;
    els.auditEmpty.hidden = false;
    return;
  }
  renderAudit();
}

function renderAudit() {
  const shown = auditAll ? audit : audit.slice(0, AUDIT_SHOWN);
  fill(els.audit, shown.map((e) => h("li", { class: "audit-entry", dataset: { testid: "audit-entry", action: e.action } },
    h("time", { class: "audit-at", datetime: e.at, title: e.at }, readableTime(e.at)),
    h("span", { class: "audit-what" },
      h("strong", { dataset: { testid: "audit-who" } }, e.who), " ",
      h("span", { dataset: { testid: "audit-action" } }, ACTIONS[e.action] || e.action), " ",
      e.upload_id ? h("span", { class: "mono", dataset: { testid: "audit-upload" } }, e.upload_id) : null),
    e.detail ? h("span", { class: "audit-detail muted", dataset: { testid: "audit-detail" } }, e.detail) : null)));
  els.auditEmpty.textContent = "Nothing has happened yet.";
  els.auditEmpty.hidden = audit.length > 0;
  els.auditMore.hidden = auditAll || audit.length <= AUDIT_SHOWN;
  els.auditMore.textContent = `Show all ${audit.length.toLocaleString()} entries`;
}

async function remove(upload) {
  const ok = await confirmAction({
    title: `Delete ${upload.id}?`,
    body: [`This removes ${upload.filename}, its error list and its ${plural(upload.programmes, "programme")} for good.`,
           "Students are not affected: it is not the active upload."],
    ok: "Delete", danger: true,
  });
  if (!ok) return;
  try {
    await api(`/api/uploads/${encodeURIComponent(upload.id)}`, { method: "DELETE" });
    if (highlight === upload.id) highlight = null;
    clearUploadResult();
    await loadUploads();
    setStatus("ok", `Deleted ${upload.id} (${upload.filename}).`);
  } catch (error) {
    failed(error, `Deleting ${upload.id}`);
    refresh();
  }
}

async function download(path, filename) {
  try {
    const blob = await (await api(path)).blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus("ok", `Downloaded ${filename}.`);
  } catch (error) {
    failed(error, `Downloading ${filename}`);
  }
}

async function showErrors(upload) {
  els.errorsTitle.textContent = `Row errors in ${upload.filename}`;
  els.errorsSummary.textContent = `Upload ${upload.id}`;
  els.errorsRows.replaceChildren();
  errorsTable.hidden = true;
  els.errorsNone.hidden = true;
  els.errorsLoading.hidden = false;
  els.errorsDownload.onclick = () => download(filePath(upload, "errors"), `${upload.id}-errors.csv`);
  els.errors.showModal();
  $("errors-close").focus();
  try {
    const body = await apiJson(filePath(upload, "errors.json"));
    els.errorsRows.replaceChildren(...body.errors.map((e) => h("tr", { dataset: { testid: "error-row" } },
      h("td", { class: "num", dataset: { label: "Row", testid: "error-line" } }, e.row == null ? "" : String(e.row)),
      h("td", { class: "column", dataset: { label: "Column", testid: "error-column" } }, e.column ?? ""),
      h("td", { class: e.value ? "value" : "value value-empty", dataset: { label: "Value", testid: "error-value" } },
        e.value || "(empty)"),
      h("td", { dataset: { label: "Problem", testid: "error-message" } }, e.message ?? ""),
    )));
    const listed = body.errors.length;
    errorsTable.hidden = listed === 0;
    els.errorsNone.hidden = listed > 0;
    // An upload keeps its first errors only (kept) and counts them all (count).
    const said = body.count > listed
      ? `the first ${listed.toLocaleString()} of its ${plural(body.count, "error")} are listed (the CSV has the same)`
      : `${plural(listed, "row")} left out`;
    els.errorsSummary.textContent = `Upload ${upload.id}: ${said}; the other ${plural(upload.programmes, "programme")} loaded. Fix these rows in the file and upload it again.`;
  } catch (error) {
    els.errors.close();
    failed(error, "Loading the errors");
  } finally {
    els.errorsLoading.hidden = true;
  }
}

/* ---------- upload ---------- */

/** XMLHttpRequest rather than fetch: only it reports upload progress. */
function send(file, token) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${ADMIN}/api/uploads`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) showProgress(Math.round((event.loaded / event.total) * 100));
    };
    xhr.onload = () => {
      const body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(body.error || `the admin API answered HTTP ${xhr.status}`, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError(`Cannot reach the admin API at ${ADMIN}; is it running?`, 0));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

function showProgress(percent) {
  els.progress.value = percent;
  els.uploadPercent.textContent = `${percent}%`;
}

async function uploadFile(file) {
  if (!file) return;
  els.uploadResult.hidden = true;
  els.uploadProgress.hidden = false;
  els.uploadName.textContent = `Uploading ${file.name}`;
  showProgress(0);
  els.dropZone.classList.add("busy");
  els.fileInput.disabled = true;
  try {
    const upload = await send(file, await freshToken());
    els.uploadName.textContent = `Uploaded ${file.name}`;
    highlight = upload.id;
    showUploadResult(upload);
    await loadUploads();
  } catch (error) {
    els.uploadProgress.hidden = true;
    if (error.status === 401 || error.status === 403) failed(error);
    else showUploadResult(null, error.message, file.name);
  } finally {
    els.dropZone.classList.remove("busy");
    els.fileInput.disabled = false;
    els.fileInput.value = "";
  }
}

/** The last upload's message goes once the table has moved on (it would say "not active yet" of an active one). */
function clearUploadResult() {
  els.uploadResult.hidden = true;
  els.uploadProgress.hidden = true;
}

function showUploadResult(upload, failure = "", filename = "") {
  let kind, title, detail;
  const actions = [];
  if (!upload) {
    kind = "error"; title = `${filename} was not uploaded`; detail = failure;
  } else if (upload.status === "failed") {
    kind = "error"; title = `${upload.filename} could not be read`;
    detail = `${upload.message || "the file was rejected"}. Nothing was loaded; it is kept as upload ${upload.id} for reference.`;
  } else {
    kind = upload.errors ? "warn" : "ok";
    title = `Loaded ${plural(upload.programmes, "programme")} from ${upload.filename}`;
    detail = (upload.errors ? `${plural(upload.errors, "row")} had errors and were left out. ` : "Every row was read. ")
      + `Upload ${upload.id} is not active yet: students still see the current catalogue.`;
    if (upload.errors) {
      actions.push(h("button", { type: "button", class: "btn btn-secondary btn-small", dataset: { testid: "result-view-errors" },
        onclick: () => showErrors(upload) }, `View ${plural(upload.errors, "error")}`));
    }
    if (upload.programmes > 0) {
      actions.push(h("button", { type: "button", class: "btn btn-secondary btn-small", dataset: { testid: "result-review" },
        onclick: () => showDiff(upload) }, "See what it changes"));
    }
    if (upload.programmes > 0 && me?.may.activate) {
      actions.push(h("button", { type: "button", class: "btn btn-primary btn-small", dataset: { testid: "result-activate" },
        onclick: () => activate(upload) }, "Activate it"));
    }
  }
  els.uploadResult.className = `upload-result result-${kind}`;
  els.uploadResult.setAttribute("role", kind === "error" ? "alert" : "status");
  els.uploadResult.replaceChildren(
    h("p", { class: "result-title" }, title),
    h("p", {}, detail),
    actions.length ? h("div", { class: "result-actions" }, actions) : null,
  );
  els.uploadResult.hidden = false;
}

function setUpDropZone() {
  const zone = els.dropZone;
  let depth = 0;
  zone.addEventListener("dragenter", (event) => { event.preventDefault(); depth++; zone.classList.add("dragging"); });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); event.dataTransfer.dropEffect = "copy"; });
  zone.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; zone.classList.remove("dragging"); } });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    const files = event.dataTransfer.files;
    if (files.length > 1) setStatus("info", `Uploading only the first of the ${files.length} files dropped.`);
    uploadFile(files[0]);
  });
  // A file dropped beside the zone must not make the browser navigate away from the dashboard.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
  els.fileInput.addEventListener("change", () => uploadFile(els.fileInput.files[0]));
}

/* ---------- start ---------- */

function start() {
  els.signinForm.addEventListener("submit", signIn);
  els.signOut.addEventListener("click", () => signOut());
  els.refresh.addEventListener("click", async () => {
    if (await refresh()) setStatus("ok", `Refreshed: ${plural(uploads.length, "upload")}.`);
  });
  for (const id of ["errors-close", "errors-close-x"]) $(id).addEventListener("click", () => els.errors.close());
  $("diff-close-x").addEventListener("click", () => els.diff.close());
  $("schedule-cancel").addEventListener("click", () => els.schedule.close());
  for (const id of ["preview-close", "preview-close-x"]) $(id).addEventListener("click", () => els.preview.close());
  $("template-csv").addEventListener("click", () => download("/api/template.csv", "catalogue-template.csv"));
  $("template-xlsx").addEventListener("click", () => download("/api/template.xlsx", "catalogue-template.xlsx"));
  els.auditMore.addEventListener("click", () => { auditAll = true; renderAudit(); els.audit.focus(); });
  setInterval(tick, 1000);
  setUpDropZone();
  if (!ADMIN) {
    showSignIn("The admin API is not configured: /config.js must set BEUWI_CONFIG.admin.");
    els.signinButton.disabled = true;
    return;
  }
  if (session?.token) {
    showDashboard();
    refresh();
  } else {
    showSignIn();
  }
}

start();
