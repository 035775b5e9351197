import FindMyWay from 'find-my-way'

// find-my-way needs a handler; only whether a route matches is ever asked.
/* c8 ignore next */
function doNothing (): void {}

/**
 * The paths of the routes that upgrade, matched leniently (any method and case, trailing and
 * duplicate slashes, no constraints): a request that might be for one of them is treated as one.
 */
export class RouteIndex {
  private readonly router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, allowUnsafeRegex: true })

  add (url: string): void {
    if (!this.router.hasRoute('GET', url)) this.router.on('GET', url, doNothing)
  }

  has (url: string): boolean {
    return this.router.find('GET', url) !== null
  }
}
