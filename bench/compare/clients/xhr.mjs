// An XMLHttpRequest for Strophe.js in Node: xhr2's request with a
// `responseXML` parsed by @xmldom/xmldom. xhr2 alone has no `responseXML`,
// and Strophe's BOSH then drops every response without a word (it parses the
// text as a fallback, logs it, and goes on with `null`).
import { DOMParser } from "@xmldom/xmldom"
import XHR2 from "xhr2"

export class XmlHttpRequest extends XHR2 {
  #parsed = undefined
  get responseXML() {
    if (this.readyState !== 4 || this.responseText === "") return null
    if (this.#parsed === undefined) {
      try {
        this.#parsed = new DOMParser().parseFromString(this.responseText, "text/xml")
      } catch {
        this.#parsed = null
      }
    }
    return this.#parsed
  }
}

/** Installs it as the global `XMLHttpRequest` Strophe's BOSH creates. */
export const install = () => {
  globalThis.XMLHttpRequest = XmlHttpRequest
}
