// The host page for Inspect's log viewer library: the package ships React components, not a built app, so this
// mounts its App with the static-HTTP API (the one `inspect view bundle` deploys), which reads
// LOG_DIR/listing.json and the log files under LOG_DIR over plain HTTP. ?log_dir= names the folder.
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { App, clientApi, initializeStore, simpleHttpApi } from "@metrevals/inspect-log-viewer";
import "@metrevals/inspect-log-viewer/styles/index.css";

const params = new URLSearchParams(window.location.search);
const logDir = params.get("log_dir") ?? "logs";
const api = clientApi(simpleHttpApi(logDir), params.get("log_file") ?? undefined);

// A static server can neither stream samples nor hand out downloads.
initializeStore(api, { downloadFiles: false, downloadLogs: false, webWorkers: true, streamSamples: false, streamSampleData: false }, undefined);
createRoot(document.getElementById("app")).render(createElement(App, { api }));
