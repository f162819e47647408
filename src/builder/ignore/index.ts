/**
 * The .dockerignore matcher alone, for the CLI: importing the builder's
 * index would load the build service (and the database) into every `berth
 * build`.
 */
export { type MatchInfo, IgnoreMatcher, cleanPath, keepBuildFiles, parseDockerignore } from '../dockerignore.js'
