'use strict'

require('./built')
module.exports = require('../dist/kit/index.js')
