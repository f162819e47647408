/**
 * The template parser: items from the lexer into parse trees, one per
 * template name ({{define}} and {{block}} add more). Functions and variables
 * are checked here, as Go does, so a bad template fails before execution.
 */
import { TemplateError } from './error.js'
import { goQuote } from './fmt.js'
import { type Item, type ItemType, itemString, lex } from './lexer.js'

export interface ListNode {
  type: 'list'
  pos: number
  nodes: Node[]
}
export interface TextNode {
  type: 'text'
  pos: number
  text: string
}
export interface PipeNode {
  type: 'pipe'
  pos: number
  line: number
  isAssign: boolean
  decl: VariableNode[]
  cmds: CommandNode[]
}
export interface ActionNode {
  type: 'action'
  pos: number
  line: number
  pipe: PipeNode
}
export interface CommandNode {
  type: 'command'
  pos: number
  args: ArgNode[]
}
export interface FieldNode {
  type: 'field'
  pos: number
  ident: string[]
}
export interface VariableNode {
  type: 'variable'
  pos: number
  /** ident[0] is the variable ("$x"), the rest a field chain. */
  ident: string[]
}
export interface ChainNode {
  type: 'chain'
  pos: number
  node: ArgNode
  field: string[]
}
export interface IdentifierNode {
  type: 'identifier'
  pos: number
  ident: string
}
export interface DotNode {
  type: 'dot'
  pos: number
}
export interface NilNode {
  type: 'nil'
  pos: number
}
export interface BoolNode {
  type: 'bool'
  pos: number
  value: boolean
}
export interface NumberNode {
  type: 'number'
  pos: number
  text: string
  /** An int (bigint beyond 2^53) or, when isFloat, a float64. */
  value: number | bigint
  isFloat: boolean
}
export interface StringNode {
  type: 'string'
  pos: number
  quoted: string
  text: string
}
export interface BranchNode {
  pos: number
  line: number
  pipe: PipeNode
  list: ListNode
  elseList: ListNode | null
}
export interface IfNode extends BranchNode {
  type: 'if'
}
export interface RangeNode extends BranchNode {
  type: 'range'
}
export interface WithNode extends BranchNode {
  type: 'with'
}
export interface TemplateNode {
  type: 'template'
  pos: number
  line: number
  name: string
  pipe: PipeNode | null
}
export interface BreakNode {
  type: 'break'
  pos: number
  line: number
}
export interface ContinueNode {
  type: 'continue'
  pos: number
  line: number
}

export type ArgNode =
  | FieldNode
  | ChainNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode
export type Node =
  | ListNode
  | TextNode
  | ActionNode
  | IfNode
  | RangeNode
  | WithNode
  | TemplateNode
  | BreakNode
  | ContinueNode
export type AnyNode = Node | ArgNode | CommandNode

interface EndNode {
  type: 'end'
  pos: number
}
interface ElseNode {
  type: 'else'
  pos: number
  line: number
}
type ListItem = Node | EndNode | ElseNode

/** Go's Node.String(): the text shown in "executing ... at <...>". */
export function nodeString(n: AnyNode | EndNode | ElseNode): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('')
    case 'text':
      return n.text
    case 'action':
      return `{{${nodeString(n.pipe)}}}`
    case 'pipe': {
      let s = n.decl.length > 0 ? n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ') : ''
      s += n.cmds.map(nodeString).join(' | ')
      return s
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ')
    case 'field':
      return n.ident.map((f) => '.' + f).join('')
    case 'variable':
      return n.ident.join('.')
    case 'chain': {
      const base = n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)
      return base + n.field.map((f) => '.' + f).join('')
    }
    case 'identifier':
      return n.ident
    case 'dot':
      return '.'
    case 'nil':
      return 'nil'
    case 'bool':
      return n.value ? 'true' : 'false'
    case 'number':
      return n.text
    case 'string':
      return n.quoted
    case 'if':
    case 'range':
    case 'with': {
      let s = `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}`
      if (n.elseList) s += `{{else}}${nodeString(n.elseList)}`
      return s + '{{end}}'
    }
    case 'template':
      return n.pipe ? `{{template ${goQuote(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${goQuote(n.name)}}}`
    case 'break':
      return '{{break}}'
    case 'continue':
      return '{{continue}}'
    case 'end':
      return '{{end}}'
    case 'else':
      return '{{else}}'
  }
}

// ---------------------------------------------------------------- literals

const simpleEscapes: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c }

/**
 * strconv.UnquoteChar over s from i: the rune or byte (for \x and octal
 * escapes), and the next index; null on bad syntax.
 */
function unquoteChar(s: string, i: number, quote: string): { value: number; isByte: boolean; next: number } | null {
  const c = s.codePointAt(i)
  if (c === undefined) return null
  const ch = String.fromCodePoint(c)
  if (ch === quote && (quote === "'" || quote === '"')) return null
  if (ch !== '\\') return { value: c, isByte: false, next: i + ch.length }
  const e = s[i + 1]
  if (e === undefined) return null
  const simple = simpleEscapes[e]
  if (simple !== undefined) return { value: simple, isByte: false, next: i + 2 }
  const hexN = (n: number) => {
    const h = s.slice(i + 2, i + 2 + n)
    return h.length === n && /^[0-9a-fA-F]+$/.test(h) ? parseInt(h, 16) : -1
  }
  switch (e) {
    case 'x': {
      const v = hexN(2)
      return v < 0 ? null : { value: v, isByte: true, next: i + 4 }
    }
    case 'u':
    case 'U': {
      const n = e === 'u' ? 4 : 8
      const v = hexN(n)
      if (v < 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null
      return { value: v, isByte: false, next: i + 2 + n }
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const o = s.slice(i + 1, i + 4)
      if (!/^[0-7]{3}$/.test(o)) return null
      const v = parseInt(o, 8)
      return v > 255 ? null : { value: v, isByte: true, next: i + 4 }
    }
    case "'":
    case '"':
      return e === quote ? { value: e.charCodeAt(0), isByte: false, next: i + 2 } : null
  }
  return null
}

/** strconv.Unquote for "..." and `...`; null on bad syntax. */
export function unquote(s: string): string | null {
  if (s.length < 2) return null
  const q = s[0]
  if (q !== s[s.length - 1]) return null
  const body = s.slice(1, -1)
  if (q === '`') return body.includes('`') ? null : body.replace(/\r/g, '')
  if (q !== '"') return null
  if (!body.includes('\\')) return body.includes('"') || body.includes('\n') ? null : body
  // Escapes may spell raw bytes; collect UTF-8 and decode once.
  const bytes: number[] = []
  for (let i = 0; i < body.length; ) {
    const r = unquoteChar(body, i, '"')
    if (!r) return null
    if (r.isByte) bytes.push(r.value)
    else bytes.push(...Buffer.from(String.fromCodePoint(r.value), 'utf8'))
    i = r.next
  }
  return Buffer.from(bytes).toString('utf8')
}

const decRe = /^[0-9](_?[0-9])*$/
const octLegacyRe = /^0(_?[0-7])+$/
const prefixedRe: Record<string, RegExp> = {
  x: /^0[xX](_?[0-9a-fA-F])+$/,
  o: /^0[oO](_?[0-7])+$/,
  b: /^0[bB](_?[01])+$/,
}
const decFloatRe = /^([0-9](_?[0-9])*)?(\.([0-9](_?[0-9])*)?)?([eE][+-]?[0-9](_?[0-9])*)?$/
const hexFloatRe = /^0[xX](_?[0-9a-fA-F])*(\.([0-9a-fA-F](_?[0-9a-fA-F])*)?)?[pP][+-]?[0-9](_?[0-9])*$/

/** strconv.ParseInt(text, 0, 64) without the sign; null if not an integer. */
function parseUnsignedInt(t: string): bigint | null {
  const strip = (x: string) => x.replace(/_/g, '')
  const p = t[1]?.toLowerCase()
  if (t[0] === '0' && p !== undefined && prefixedRe[p]) {
    if (!prefixedRe[p].test(t)) return null
    const digits = strip(t.slice(2))
    return BigInt('0' + p + digits)
  }
  if (octLegacyRe.test(t)) return BigInt('0o' + strip(t.slice(1)))
  if (decRe.test(t)) return BigInt(strip(t))
  return null
}

function parseHexFloat(t: string): number {
  const s = t.slice(2).replace(/_/g, '')
  const pIdx = s.search(/[pP]/)
  const mant = s.slice(0, pIdx)
  const exp = Number(s.slice(pIdx + 1))
  const [ip = '', fp = ''] = mant.split('.')
  const digits = ip + fp
  const m = digits === '' ? 0 : Number(BigInt('0x' + digits))
  return m * 2 ** (exp - 4 * fp.length)
}

/** strconv.ParseFloat; null if not a float. */
function parseFloat64(t: string): number | null {
  if (/^0[xX]/.test(t)) return hexFloatRe.test(t) ? parseHexFloat(t) : null
  if (t === '' || t === '.' || !decFloatRe.test(t) || !/[0-9]/.test(t.replace(/[eE].*$/, ''))) return null
  return Number(t.replace(/_/g, ''))
}

const int64Max = 2n ** 63n - 1n
const int64Min = -(2n ** 63n)

// ---------------------------------------------------------------- parser

/** Nesting beyond this fails the parse rather than overflowing the stack. */
const maxParseDepth = 1000

export interface ParseResult {
  /** Every template by name, the top-level one included. */
  trees: Map<string, ListNode>
}

class Parser {
  private i = 0
  private maxSeen = 0
  private vars: string[] = ['$']
  private rangeDepth = 0
  private actionLine = 0
  private depth = 0

  constructor(
    private readonly parseName: string,
    private readonly items: Item[],
    private readonly hasFunction: (name: string) => boolean,
    private readonly trees: Map<string, ListNode>,
  ) {}

  // ---- token stream

  private at(i: number): Item {
    const last = this.items[this.items.length - 1]
    if (!last) throw new Error('gotemplate: lexer produced no items')
    return this.items[Math.min(i, this.items.length - 1)] ?? last
  }

  private next(): Item {
    const it = this.at(this.i)
    if (this.i > this.maxSeen) this.maxSeen = this.i
    this.i++
    return it
  }

  private backup(n = 1): void {
    this.i -= n
  }

  private peek(): Item {
    if (this.i > this.maxSeen) this.maxSeen = this.i
    return this.at(this.i)
  }

  private nextNonSpace(): Item {
    let it: Item
    do it = this.next()
    while (it.type === 'space')
    return it
  }

  private peekNonSpace(): Item {
    const it = this.nextNonSpace()
    this.backup()
    return it
  }

  // ---- errors

  errorf(msg: string): never {
    const line = this.at(this.maxSeen).line
    throw new TemplateError(`template: ${this.parseName}:${line}: ${msg}`)
  }

  private unexpected(it: Item, context: string): never {
    if (it.type === 'error') {
      let extra = ''
      if (this.actionLine !== 0 && this.actionLine !== it.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`
        if (it.val.endsWith(' action')) extra = extra.slice(' in action'.length)
      }
      this.errorf(it.val + extra)
    }
    this.errorf(`unexpected ${itemString(it)} in ${context}`)
  }

  private expect(type: ItemType, context: string): Item {
    const it = this.nextNonSpace()
    if (it.type !== type) this.unexpected(it, context)
    return it
  }

  private enter(what: 'expression' | 'control'): void {
    if (++this.depth > maxParseDepth) this.errorf(`max ${what} depth exceeded`)
  }

  // ---- grammar

  parse(): void {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] }
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const mark = this.i
        this.next()
        if (this.nextNonSpace().type === 'define') {
          this.parseDefinition()
          continue
        }
        this.i = mark
      }
      const n = this.textOrAction()
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`)
      root.nodes.push(n)
    }
    this.add(this.parseName, root)
  }

  private add(name: string, list: ListNode): void {
    const existing = this.trees.get(name)
    if (!existing || isEmptyTree(existing)) {
      this.trees.set(name, list)
      return
    }
    if (!isEmptyTree(list)) this.errorf(`template: multiple definition of template ${goQuote(name)}`)
  }

  /** A nested template body: parsed with fresh variables, outside any range. */
  private subTemplate<T>(fn: () => T): T {
    const vars = this.vars
    const rangeDepth = this.rangeDepth
    this.vars = ['$']
    this.rangeDepth = 0
    try {
      return fn()
    } finally {
      this.vars = vars
      this.rangeDepth = rangeDepth
    }
  }

  private parseDefinition(): void {
    const context = 'define clause'
    const nameItem = this.nextNonSpace()
    if (nameItem.type !== 'string' && nameItem.type !== 'rawString') this.unexpected(nameItem, context)
    const name = unquote(nameItem.val)
    if (name === null) this.errorf('invalid syntax')
    this.expect('rightDelim', context)
    this.subTemplate(() => {
      const [list, end] = this.itemList()
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`)
      this.add(name, list)
    })
  }

  private itemList(): [ListNode, EndNode | ElseNode] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] }
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction()
      if (n.type === 'end' || n.type === 'else') return [list, n]
      list.nodes.push(n)
    }
    this.errorf('unexpected EOF')
  }

  private textOrAction(): ListItem {
    const it = this.nextNonSpace()
    if (it.type === 'text') return { type: 'text', pos: it.pos, text: it.val }
    if (it.type === 'leftDelim') {
      const saved = this.actionLine
      this.actionLine = it.line
      try {
        return this.action()
      } finally {
        this.actionLine = saved
      }
    }
    this.unexpected(it, 'input')
  }

  private action(): ListItem {
    const it = this.nextNonSpace()
    switch (it.type) {
      case 'block':
        return this.blockControl()
      case 'break':
        return this.breakControl(it, 'break')
      case 'continue':
        return this.breakControl(it, 'continue')
      case 'else':
        return this.elseControl()
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos }
      case 'if':
        return { type: 'if', ...this.parseControl('if') }
      case 'range':
        return { type: 'range', ...this.parseControl('range') }
      case 'template':
        return this.templateControl()
      case 'with':
        return { type: 'with', ...this.parseControl('with') }
    }
    this.backup()
    const first = this.peek()
    return { type: 'action', pos: first.pos, line: first.line, pipe: this.pipeline('command', 'rightDelim') }
  }

  private breakControl(it: Item, kind: 'break' | 'continue'): BreakNode | ContinueNode {
    const next = this.nextNonSpace()
    if (next.type !== 'rightDelim') this.unexpected(next, `{{${kind}}}`)
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`)
    return { type: kind, pos: it.pos, line: it.line }
  }

  private elseControl(): ElseNode {
    const peek = this.peekNonSpace()
    // "else if" and "else with": leave the keyword for parseControl.
    if (peek.type === 'if' || peek.type === 'with') return { type: 'else', pos: peek.pos, line: peek.line }
    const it = this.expect('rightDelim', 'else')
    return { type: 'else', pos: it.pos, line: it.line }
  }

  private parseControl(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length
    this.enter('control')
    try {
      const pipe = this.pipeline(context, 'rightDelim')
      if (context === 'range') this.rangeDepth++
      let list: ListNode
      let next: EndNode | ElseNode
      try {
        ;[list, next] = this.itemList()
      } finally {
        if (context === 'range') this.rangeDepth--
      }
      let elseList: ListNode | null = null
      if (next.type === 'else') {
        const kw = this.peek().type
        if ((context === 'if' && kw === 'if') || (context === 'with' && kw === 'with')) {
          // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} sharing one {{end}}.
          this.next()
          elseList = { type: 'list', pos: next.pos, nodes: [{ type: context, ...this.parseControl(context) }] }
        } else {
          let end: EndNode | ElseNode
          ;[elseList, end] = this.itemList()
          if (end.type !== 'end') this.errorf(`expected end; found ${nodeString(end)}`)
        }
      }
      return { pos: pipe.pos, line: pipe.line, pipe, list, elseList }
    } finally {
      this.vars.length = mark
      this.depth--
    }
  }

  private parseTemplateName(it: Item, context: string): string {
    if (it.type !== 'string' && it.type !== 'rawString') this.unexpected(it, context)
    const name = unquote(it.val)
    if (name === null) this.errorf('invalid syntax')
    return name
  }

  private blockControl(): TemplateNode {
    const context = 'block clause'
    const it = this.nextNonSpace()
    const name = this.parseTemplateName(it, context)
    const pipe = this.pipeline(context, 'rightDelim')
    this.subTemplate(() => {
      const [list, end] = this.itemList()
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`)
      this.add(name, list)
    })
    return { type: 'template', pos: it.pos, line: it.line, name, pipe }
  }

  private templateControl(): TemplateNode {
    const context = 'template clause'
    const it = this.nextNonSpace()
    const name = this.parseTemplateName(it, context)
    let pipe: PipeNode | null = null
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup()
      pipe = this.pipeline(context, 'rightDelim')
    }
    return { type: 'template', pos: it.pos, line: it.line, name, pipe }
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const first = this.peekNonSpace()
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] }
    decls: for (;;) {
      const v = this.peekNonSpace()
      if (v.type !== 'variable') break
      this.next()
      const vIndex = this.i - 1
      const next = this.peekNonSpace()
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign'
        this.nextNonSpace()
        pipe.decl.push(newVariable(v.pos, v.val))
        this.vars.push(v.val)
        break
      }
      if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace()
        pipe.decl.push(newVariable(v.pos, v.val))
        this.vars.push(v.val)
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue decls
          this.errorf('range can only initialize variables')
        }
        this.errorf(`too many declarations in ${context}`)
      }
      // Not a declaration: $x starts a command.
      this.i = vIndex
      break
    }
    for (;;) {
      const it = this.nextNonSpace()
      if (it.type === end) {
        this.checkPipeline(pipe, context)
        return pipe
      }
      switch (it.type) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup()
          pipe.cmds.push(this.command())
          break
        default:
          this.unexpected(it, context)
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`)
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]?.type
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`)
      }
    })
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] }
    for (;;) {
      this.peekNonSpace()
      const operand = this.operand()
      if (operand) cmd.args.push(operand)
      const it = this.next()
      if (it.type === 'space') continue
      if (it.type === 'rightDelim' || it.type === 'rightParen') this.backup()
      else if (it.type !== 'pipe') this.unexpected(it, 'operand')
      break
    }
    if (cmd.args.length === 0) this.errorf('empty command')
    return cmd
  }

  private operand(): ArgNode | null {
    const node = this.term()
    if (!node) return null
    if (this.peek().type !== 'field') return node
    const pos = this.peek().pos
    const fields: string[] = []
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1))
    switch (node.type) {
      case 'field':
        return { type: 'field', pos, ident: [...node.ident, ...fields] }
      case 'variable':
        return { type: 'variable', pos, ident: [...node.ident, ...fields] }
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`)
    }
    return { type: 'chain', pos, node, field: fields }
  }

  private term(): ArgNode | null {
    const it = this.nextNonSpace()
    switch (it.type) {
      case 'error':
        this.unexpected(it, 'operand')
        break
      case 'identifier':
        if (!this.hasFunction(it.val)) this.errorf(`function ${goQuote(it.val)} not defined`)
        return { type: 'identifier', pos: it.pos, ident: it.val }
      case 'dot':
        return { type: 'dot', pos: it.pos }
      case 'nil':
        return { type: 'nil', pos: it.pos }
      case 'variable':
        return this.useVar(it)
      case 'field':
        return { type: 'field', pos: it.pos, ident: it.val.slice(1).split('.') }
      case 'bool':
        return { type: 'bool', pos: it.pos, value: it.val === 'true' }
      case 'charConstant':
      case 'complex':
      case 'number':
        return this.newNumber(it)
      case 'leftParen': {
        this.enter('expression')
        try {
          return this.pipeline('parenthesized pipeline', 'rightParen')
        } finally {
          this.depth--
        }
      }
      case 'string':
      case 'rawString': {
        const text = unquote(it.val)
        if (text === null) this.errorf('invalid syntax')
        return { type: 'string', pos: it.pos, quoted: it.val, text }
      }
    }
    this.backup()
    return null
  }

  private useVar(it: Item): VariableNode {
    const v = newVariable(it.pos, it.val)
    if (!this.vars.includes(v.ident[0] ?? '')) this.errorf(`undefined variable ${goQuote(v.ident[0] ?? '')}`)
    return v
  }

  private newNumber(it: Item): NumberNode {
    const text = it.val
    const node = (value: number | bigint, isFloat: boolean): NumberNode => ({
      type: 'number',
      pos: it.pos,
      text,
      value,
      isFloat,
    })
    const imaginary = text.endsWith('i') && parseFloat64(text.replace(/^[+-]/, '').slice(0, -1)) !== null
    if (it.type === 'complex' || imaginary) {
      this.errorf(`complex numbers are not supported: ${goQuote(text)}`)
    }
    if (it.type === 'charConstant') {
      const r = unquoteChar(text, 1, "'")
      if (!r) this.errorf('invalid syntax')
      if (text.slice(r.next) !== "'") this.errorf(`malformed character constant: ${text}`)
      return node(r.value, false)
    }
    const neg = text[0] === '-'
    const unsigned = text[0] === '-' || text[0] === '+' ? text.slice(1) : text
    const u = parseUnsignedInt(unsigned)
    if (u !== null) {
      const v = neg ? -u : u
      if (v > int64Max || v < int64Min) {
        // Go reads it as a uint64 or rejects it; neither is an int.
        this.errorf(`integer overflow: ${goQuote(text)}`)
      }
      return node(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v, false)
    }
    const f = parseFloat64(unsigned)
    if (f === null) this.errorf(`illegal number syntax: ${goQuote(text)}`)
    const isHexInt = /^0[xX]/.test(unsigned) && !/[pP]/.test(unsigned)
    return node(neg ? -f : f, !isHexInt && /[.eEpP]/.test(unsigned))
  }
}

function newVariable(pos: number, name: string): VariableNode {
  return { type: 'variable', pos, ident: name.split('.') }
}

function isEmptyTree(n: Node): boolean {
  switch (n.type) {
    case 'list':
      return n.nodes.every(isEmptyTree)
    case 'text':
      return n.text.trim() === ''
    default:
      return false
  }
}

export interface ParseOptions {
  name: string
  hasFunction: (name: string) => boolean
}

/** Parses text into its templates; throws TemplateError like Go's Parse. */
export function parse(text: string, opts: ParseOptions): ParseResult {
  const items = lex(text, { breakOK: !opts.hasFunction('break'), continueOK: !opts.hasFunction('continue') })
  const trees = new Map<string, ListNode>()
  const parser = new Parser(opts.name, items, opts.hasFunction, trees)
  try {
    parser.parse()
  } catch (err) {
    if (err instanceof RangeError) parser.errorf('max expression depth exceeded')
    throw err
  }
  return { trees }
}
