// Toasts (messages in words, never only in the console) and the confirmation dialog.
import { $, h, icon } from './dom.js';

/** Shows a message; errors stay until closed, the rest fade after a few seconds. */
export function toast(message, { kind = 'info', title = null, timeout } = {}) {
  const region = $('#toasts');
  const close = () => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 200);
  };
  const el = h(
    'div',
    { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'info' ? 'check' : 'alert'),
    h('div', { class: 'toast-body' }, title && h('strong', { text: title }), h('span', { text: message })),
    h('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Dismiss', onclick: close }, icon('x', 16)),
  );
  region.append(el);
  const ms = timeout ?? (kind === 'error' ? 0 : 5000);
  if (ms) setTimeout(close, ms);
  // Keep at most five on screen.
  while (region.children.length > 5) region.firstElementChild.remove();
  return close;
}

export const toastError = (message, title) => toast(message, { kind: 'error', title });

/**
 * Asks before a destructive action; resolves true when confirmed.
 * confirmAction({ title, message, confirmLabel, danger })
 */
export function confirmAction({ title, message, confirmLabel = 'OK', cancelLabel = 'Cancel', danger = false }) {
  const dialog = $('#confirm-dialog');
  if (typeof dialog?.showModal !== 'function') return Promise.resolve(window.confirm(`${title}\n\n${message}`));
  $('#confirm-title', dialog).textContent = title;
  $('#confirm-message', dialog).textContent = message;
  const ok = $('#confirm-ok', dialog);
  ok.textContent = confirmLabel;
  $('#confirm-cancel', dialog).textContent = cancelLabel;
  ok.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
  dialog.returnValue = '';
  dialog.showModal();
  $('#confirm-cancel', dialog).focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}
