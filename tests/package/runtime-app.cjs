// `require("mlpgrad")` from CommonJS in Node: the same checks as runtime-app.mjs.
const mlpgrad = require("mlpgrad");

import("./checks.js")
  .then(({ runChecks }) => runChecks(mlpgrad, { threads: 2 }))
  .then((results) => console.log(JSON.stringify(results)));
