'use strict'

// Coverage is measured on the TypeScript sources, whichever test loads them.
module.exports = () => 'lib/**'
