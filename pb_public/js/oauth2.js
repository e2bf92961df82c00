// The OAuth2 redirect flow of every provider the operator enabled (Pocket-ID as "oidc", and any
// other PocketBase offers: GitHub, Google, Apple …): the buttons of /login and /signup, the start
// of the flow, and what /login learns when a started flow never reached the callback.
import { OAUTH2_KEY } from "./pb.js";
import { h } from "./ui.js";

/** CALLBACK_PATH is where every provider sends the browser back (APP_URL + CALLBACK_PATH). */
export const CALLBACK_PATH = "/auth/callback";

/** OIDC_PROVIDER is Pocket-ID's provider name; its button comes first. */
export const OIDC_PROVIDER = "oidc";

/** CANCELLED_NOTICE is what /login says after a sign-in was cancelled at the provider. */
export const CANCELLED_NOTICE = "Sign-in was cancelled. You can try again, or use another way to sign in.";

/**
 * oauth2Providers returns the providers auth-methods offers for the redirect flow, Pocket-ID
 * first and the others in the order the operator stored them.
 */
export function oauth2Providers(methods) {
    if (!methods?.oauth2?.enabled) {
        return [];
    }
    const all = (methods.oauth2.providers || []).filter((p) => p?.name && p.authURL);
    return [...all.filter((p) => p.name === OIDC_PROVIDER), ...all.filter((p) => p.name !== OIDC_PROVIDER)];
}

/** providerLabel is the provider's name for people. */
export function providerLabel(provider) {
    return provider?.displayName || provider?.name || "your identity provider";
}

/**
 * providerButtons returns one button per provider, e.g. "Sign in with Pocket-ID" (`verb` is
 * "Sign in" or "Sign up"). Pocket-ID's is the primary one, with id "oidc-signin"; the others
 * are "oauth2-signin-<name>".
 */
export function providerButtons(providers, next, verb) {
    return providers.map((p, i) => h("button", {
        type: "button",
        class: i === 0 && p.name === OIDC_PROVIDER ? "button button-primary button-wide" : "button button-wide",
        id: p.name === OIDC_PROVIDER ? "oidc-signin" : `oauth2-signin-${p.name}`,
        dataset: { provider: p.name },
        onclick: () => startOAuth2(p, next),
    }, `${verb} with ${providerLabel(p)}`));
}

// startOAuth2 begins the redirect flow: the provider, its state and PKCE verifier stay in this
// tab's sessionStorage, where the callback page checks and uses them.
function startOAuth2(provider, next) {
    const redirectURL = location.origin + CALLBACK_PATH;
    sessionStorage.setItem(OAUTH2_KEY, JSON.stringify({
        provider: provider.name,
        displayName: providerLabel(provider),
        state: provider.state,
        codeVerifier: provider.codeVerifier,
        redirectURL,
        next,
    }));
    location.href = provider.authURL + encodeURIComponent(redirectURL);
}

/**
 * takeAbandonedSignIn forgets a flow this tab started that never reached the callback and
 * reports whether there was one: the person came back without signing in, e.g. with Cancel on
 * Pocket-ID's consent page (which returns to the page's origin, see the Referrer-Policy of
 * /login) or the Back button.
 */
export function takeAbandonedSignIn() {
    const pending = sessionStorage.getItem(OAUTH2_KEY);
    sessionStorage.removeItem(OAUTH2_KEY);
    return Boolean(pending);
}
