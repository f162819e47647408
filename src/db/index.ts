import Database from 'better-sqlite3'

export type Db = Database.Database

/**
 * A migration belongs to the module that owns its tables; `owner` + `version`
 * identify it. Each runs once, in its own transaction.
 */
export interface Migration {
  owner: string
  version: number
  up: string | ((db: Db) => void)
}

/** Open (or create) the metadata database: WAL, foreign keys, a busy timeout. */
export function openDb(file: string): Db {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  db.exec('CREATE TABLE IF NOT EXISTS migrations (owner TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (owner, version))')
  return db
}

export function migrate(db: Db, migrations: readonly Migration[]): void {
  const done = db.prepare('SELECT 1 FROM migrations WHERE owner = ? AND version = ?')
  const mark = db.prepare('INSERT INTO migrations (owner, version) VALUES (?, ?)')
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.get(m.owner, m.version)) continue
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up)
      else m.up(db)
      mark.run(m.owner, m.version)
    })()
  }
}
