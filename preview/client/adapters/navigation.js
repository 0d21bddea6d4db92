// lightning/navigation for the preview: a record page reference opens the record's JSON (main.js).
const Navigate = Symbol('Navigate');
const GenerateUrl = Symbol('GenerateUrl');

const urlOf = (ref) => (ref?.type === 'standard__recordPage' ? `#record/${ref.attributes.recordId}` : '#');

export const NavigationMixin = (Base) =>
  class extends Base {
    [Navigate](pageReference) {
      window.location.hash = urlOf(pageReference);
    }
    [GenerateUrl](pageReference) {
      return Promise.resolve(urlOf(pageReference));
    }
  };
NavigationMixin.Navigate = Navigate;
NavigationMixin.GenerateUrl = GenerateUrl;
export const CurrentPageReference = undefined;
