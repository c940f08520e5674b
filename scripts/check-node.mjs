// Guards npm scripts against the system Node: the project needs Node 22 (Lambda nodejs22.x,
// vitest 5, middy 7, fauxqs 2). `npm ci` installs it into node_modules/.bin, which npm puts first
// on PATH for every script, so this only fails when scripts run outside npm or with --ignore-scripts.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `Pulseboard needs Node 22 or newer, but this is Node ${process.versions.node}. ` +
      'Run it through npm (npm start, npm test), which uses the Node 22 installed by `npm ci`.',
  );
  process.exit(1);
}
