// Before tap runs: tap builds itself for the plugins package.json configures (not its default
// set, which loads TypeScript through ts-node), but when it does so on its own, its runner has
// already chosen the first run's loaders from the old build, and coverage of that run is wrong.
// So the build happens here first, when it is needed (a fresh install), and costs nothing after.
import { execFileSync } from 'node:child_process'
import { TapConfig } from '@tapjs/config'
import { signature } from '@tapjs/test'

const config = await TapConfig.load()
if (config.pluginSignature !== signature) execFileSync('npx', ['tap', 'build'], { stdio: 'inherit' })
