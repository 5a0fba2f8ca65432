// Project-local server for `cds-serve`: the standard CAP bootstrap, but listening on 127.0.0.1 only.
const cds = require('@sap/cds')
const express = require('express')

module.exports = async function server (options) {
  const app = express()
  app.disable('x-powered-by')
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)
  app.get('/healthz', (_req, res) => res.status(200).send('ok'))
  return cds.server({ ...options, app })
}
