/** GET /images/search: one result, docker's registry.SearchResult with its snake_case JSON names. */
export interface SearchResult {
  name: string
  description: string
  star_count: number
  is_official: boolean
  /** Deprecated by docker; always false. */
  is_automated: boolean
}
