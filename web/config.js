// Local mode (`make run`): the API is this same origin and the app signs in to the demo tenant.
// A deployment replaces this file with its own (infra/web.py): the API URL and Cognito settings.
export default {
  mode: "local",
  apiUrl: "",
  localTenant: "demo",
  // Live updates: how often an open view with pending recipients is fetched again (web/live.js).
  refreshSeconds: 10,
};
