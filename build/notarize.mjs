// electron-builder `afterSign` hook: notarizes the signed macOS app with Apple's notarytool, only
// when credentials are in the environment. Imports @electron/notarize lazily; nothing of Sluice.

const STRATEGIES = [
  { name: 'App Store Connect API key', vars: ['APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER'],
    creds: (e) => ({ appleApiKey: e.APPLE_API_KEY, appleApiKeyId: e.APPLE_API_KEY_ID, appleApiIssuer: e.APPLE_API_ISSUER }) },
  { name: 'Apple ID', vars: ['APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID'],
    creds: (e) => ({ appleId: e.APPLE_ID, appleIdPassword: e.APPLE_APP_SPECIFIC_PASSWORD, teamId: e.APPLE_TEAM_ID }) },
  { name: 'keychain profile', vars: ['APPLE_KEYCHAIN_PROFILE'],
    creds: (e) => ({ keychainProfile: e.APPLE_KEYCHAIN_PROFILE, ...(e.APPLE_KEYCHAIN ? { keychain: e.APPLE_KEYCHAIN } : {}) }) },
];

/**
 * Which notarytool credentials the environment holds: null when none are set (an unsigned local
 * build), the credentials when one strategy is complete, and an error when one is half set, so
 * a release job with a missing secret fails instead of shipping an app Gatekeeper rejects.
 */
export function notarizeCredentials(env) {
  for (const s of STRATEGIES) {
    const set = s.vars.filter((v) => env[v]);
    if (set.length === s.vars.length) return { strategy: s.name, credentials: s.creds(env) };
    if (set.length > 0) {
      const missing = s.vars.filter((v) => !env[v]);
      throw new Error(`notarize: ${s.name} credentials are incomplete: ${set.join(', ')} set but ${missing.join(', ')} missing`);
    }
  }
  return null;
}

export default async function afterSign(context) {
  if (context.electronPlatformName !== 'darwin') return;
  const found = notarizeCredentials(process.env);
  if (!found) {
    console.log('notarize: skipped (no Apple credentials: set APPLE_API_KEY/APPLE_API_KEY_ID/APPLE_API_ISSUER, '
      + 'APPLE_ID/APPLE_APP_SPECIFIC_PASSWORD/APPLE_TEAM_ID, or APPLE_KEYCHAIN_PROFILE)');
    return;
  }
  const appPath = `${context.appOutDir}/${context.packager.appInfo.productFilename}.app`;
  console.log(`notarize: submitting ${appPath} (${found.strategy})`);
  const { notarize } = await import('@electron/notarize');
  await notarize({ appPath, ...found.credentials });
  console.log('notarize: done and stapled');
}

export { afterSign };
