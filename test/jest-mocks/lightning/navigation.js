// Navigation mock that remembers the last page reference (as in trailheadapps/lwc-recipes).
export const CurrentPageReference = jest.fn();

let lastPageReference;
const Navigate = Symbol('Navigate');
const GenerateUrl = Symbol('GenerateUrl');

export const NavigationMixin = (Base) =>
  class extends Base {
    [Navigate](pageReference, replace) {
      lastPageReference = { pageReference, replace };
    }
    [GenerateUrl](pageReference) {
      lastPageReference = { pageReference };
      return Promise.resolve('/lightning/r/' + (pageReference?.attributes?.recordId ?? ''));
    }
  };
NavigationMixin.Navigate = Navigate;
NavigationMixin.GenerateUrl = GenerateUrl;

export const getNavigateCalledWith = () => lastPageReference;
export const resetNavigation = () => {
  lastPageReference = undefined;
};
