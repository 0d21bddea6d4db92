// lightning/platformShowToastEvent for the preview: the same event; the page shows it (main.js).
export class ShowToastEvent extends CustomEvent {
  constructor(toast) {
    super('lightning__showtoast', { bubbles: true, composed: true, cancelable: true, detail: toast });
  }
}
