/**
 * Random container names in docker's `adjective_surname` style. The lists are
 * berth's own: short words that read well together.
 */
const left = [
  'admiring', 'agile', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'calm', 'charming', 'clever',
  'cool', 'crazy', 'dazzling', 'determined', 'eager', 'ecstatic', 'elegant', 'epic', 'festive', 'focused', 'friendly',
  'funny', 'gallant', 'gifted', 'gracious', 'happy', 'hopeful', 'hungry', 'inspiring', 'jolly', 'keen', 'kind', 'laughing',
  'loving', 'lucid', 'magical', 'modest', 'musing', 'nervous', 'nice', 'nifty', 'nostalgic', 'optimistic', 'peaceful',
  'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic', 'serene', 'sharp',
  'silly', 'sleepy', 'stoic', 'strange', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant', 'vigilant',
  'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
]
const right = [
  'albattani', 'allen', 'archimedes', 'babbage', 'bardeen', 'bell', 'bhabha', 'bohr', 'booth', 'brahmagupta', 'carson',
  'cerf', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'galileo',
  'gauss', 'goldberg', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hopper', 'hypatia', 'jackson', 'johnson', 'kepler',
  'khorana', 'knuth', 'lamarr', 'lovelace', 'maxwell', 'mccarthy', 'meitner', 'mendel', 'morse', 'napier', 'newton',
  'noether', 'pascal', 'pasteur', 'perlman', 'planck', 'poincare', 'raman', 'ritchie', 'sammet', 'shannon', 'sinoussi',
  'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'wilson', 'wing', 'wozniak', 'wright', 'yalow', 'yonath',
]

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const a = left[Math.floor(Math.random() * left.length)]
    const b = right[Math.floor(Math.random() * right.length)]
    const name = i < 10 ? `${a}_${b}` : `${a}_${b}${Math.floor(Math.random() * 10)}`
    if (!taken(name)) return name
  }
}

/** docker's rule for user-chosen names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
