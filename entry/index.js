'use strict'

require('./built')
module.exports = require('../dist/index.js')
