// The form that calls an action: the input is checked as JSON here first, then sent with
// POST call; the answer shows the result, or the error with its input issues listed.
import { el } from './dom.js'

/**
 * @param {{ form: HTMLFormElement, action: HTMLInputElement, input: HTMLTextAreaElement,
 *   submit: HTMLButtonElement, result: HTMLElement }} parts
 */
export function createCallForm({ form, action, input, submit, result }) {
  /** @param {'ok' | 'error'} kind @param {Node[]} children */
  const show = (kind, children) => {
    result.hidden = false
    result.dataset.outcome = kind
    result.replaceChildren(...children)
  }
  /** @param {{ code: string, message: string, issues?: { where: string, message: string }[], more?: number }} error */
  const showError = (error) => {
    const issues = error.issues ?? []
    const list = el(
      'ul',
      { className: 'issues' },
      issues.map((issue) => el('li', {}, [el('code', { text: issue.where }), `: ${issue.message}`])),
    )
    if ((error.more ?? 0) > 0) list.append(el('li', { text: `and ${error.more} more` }))
    show('error', [el('div', {}, [el('strong', { className: 'code', text: error.code }), ` ${error.message}`]), list])
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const request = { action: action.value.trim() }
    const text = input.value.trim()
    if (text !== '') {
      try {
        request.input = JSON.parse(text)
      } catch {
        showError({ code: 'NOT_JSON', message: `the input is not JSON: a string needs double quotes, as in "${text}"` })
        return
      }
    }
    submit.disabled = true
    try {
      const response = await fetch('call', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
      })
      const reply = await response.json()
      if (reply.ok)
        show('ok', [el('span', { className: 'muted', text: 'result ' }), el('code', { text: JSON.stringify(reply.result) })])
      else showError(reply.error)
    } catch (error) {
      showError({ code: 'UNREACHABLE', message: `the inspector did not answer: ${error instanceof Error ? error.message : error}` })
    } finally {
      submit.disabled = false
    }
  })
}
