import { errorTitle, html, page, type SafeHtml } from './html.js';

// Pages of the tenant directory: self-service registration by DNS proof, and
// the admins of a tenant as a signed-in admin manages them.

const errorBox = (id: string, text?: string) => (text ? html`<p class="error" role="alert" id="${id}">${text}</p>` : '');

export interface NewTenantValues {
  tenantDomain?: string;
  name?: string;
  email?: string;
}

/** What is wrong with the form: about one field (marked invalid and described by it), or the whole form. */
export interface NewTenantError {
  text: string;
  field?: keyof NewTenantValues;
}

export function newTenantPage(values: NewTenantValues = {}, error?: NewTenantError): string {
  const described = (field: keyof NewTenantValues) => {
    if (!error) return '';
    if (!error.field) return html` aria-describedby="form-error"`;
    return error.field === field ? html` aria-describedby="form-error" aria-invalid="true"` : '';
  };
  return page(
    errorTitle('Register your organisation', error),
    html`<h1>Register your organisation</h1>
${errorBox('form-error', error?.text)}
<p>Register the domain your organisation uses so its admins can authorize partners. We email you a link, then ask you to publish a DNS record that proves you manage the domain.</p>
<form method="post" action="/tenants/new">
<p><label for="tenantDomain">Domain</label><br><input id="tenantDomain" name="tenantDomain" required maxlength="253" autocomplete="off" value="${values.tenantDomain ?? ''}"${described('tenantDomain')}></p>
<p><label for="name">Organisation name</label><br><input id="name" name="name" required maxlength="200" autocomplete="organization" value="${values.name ?? ''}"${described('name')}></p>
<p><label for="email">Your email address</label><br><input id="email" name="email" type="email" required maxlength="254" autocomplete="email" value="${values.email ?? ''}"${described('email')}></p>
<button type="submit">Email me a verification link</button>
</form>`,
  );
}

export function verificationSentPage(email: string): string {
  return page(
    'Check your email',
    html`<h1>Check your email</h1>
<p class="notice" role="status">We sent a verification link to ${email}. Open it to see the DNS record to publish. The link works for 7 days.</p>`,
  );
}

export interface ChallengeView {
  token: string;
  domain: string;
  email: string;
  recordName: string;
  expected: string;
  expiresAt: Date;
  /** The invitation this verification started from, to answer it once the domain is proven. */
  invitationToken?: string;
}

export type VerifyProblem =
  | { kind: 'missing' }
  | { kind: 'mismatch'; found: string[]; stale: boolean }
  | { kind: 'unavailable' };

function problemText(problem: VerifyProblem, view: ChallengeView): SafeHtml {
  switch (problem.kind) {
    case 'missing':
      return html`We found no TXT record at <code>${view.recordName}</code>. Publish it as shown below; DNS changes can take a few minutes to appear.`;
    case 'unavailable':
      return html`We could not ask DNS about <code>${view.recordName}</code> just now. Nothing was changed; try Verify again in a minute.`;
    case 'mismatch':
      return html`The TXT record at <code>${view.recordName}</code> does not hold the expected value.${
        problem.stale ? html` It holds the value of an earlier verification of ${view.domain}, which no longer counts: replace it.` : ''
      }
<br>We found: ${problem.found.map((value, i) => html`${i ? ', ' : ''}<code>${value}</code>`)}
<br>We expected: <code>${view.expected}</code>`;
  }
}

export function challengePage(view: ChallengeView, problem?: VerifyProblem): string {
  return page(
    errorTitle(`Verify ${view.domain}`, problem),
    html`<h1>Verify ${view.domain}</h1>
${problem ? html`<p class="error" role="alert" id="verify-error">${problemText(problem, view)}</p>` : ''}
<p>To prove that you (${view.email}) manage ${view.domain}, add this TXT record at your DNS provider, then select Verify.</p>
<dl>
<dt>Type</dt><dd>TXT</dd>
<dt>Name</dt><dd><code id="record-name">${view.recordName}</code></dd>
<dt>Value</dt><dd><code id="record-value">${view.expected}</code></dd>
</dl>
<p>This verification expires on ${view.expiresAt.toUTCString()}. You can remove the record once ${view.domain} is verified.</p>
<form method="post" action="/tenants/verify/${view.token}">
${view.invitationToken ? html`<input type="hidden" name="invitation" value="${view.invitationToken}">` : ''}
<button type="submit"${problem ? html` aria-describedby="verify-error"` : ''}>Verify</button>
</form>`,
  );
}

export function tenantRegisteredPage(view: { domain: string; email: string; invitationPath?: string }): string {
  return page(
    'Organisation verified',
    html`<h1>${view.domain} is verified</h1>
<p class="notice" role="status">Your organisation is registered, with you (${view.email}) as its admin.</p>
${view.invitationPath ? html`<p><a href="${view.invitationPath}">Go back to the partner's request and answer it</a></p>` : ''}
<p>You can add more admins and see your partners on <a href="/partner-relationships">Partner relationships</a> after you sign in.</p>`,
  );
}

export type ChallengeProblemPage = 'unknown' | 'expired' | 'verified' | 'registered';

const challengeProblemText: Record<ChallengeProblemPage, [string, string]> = {
  unknown: ['This verification link is not valid', 'We do not know this verification link. Check that you opened the whole link from the email.'],
  expired: ['This verification has expired', 'Start again from Register your organisation; you will get a new record to publish.'],
  verified: ['Already verified', 'This verification was already used. Sign in on Partner relationships to manage your organisation.'],
  registered: [
    'This organisation is already registered',
    'Someone already verified this domain. Ask one of its admins to add you from Partner relationships.',
  ],
};

export function challengeProblemPage(problem: ChallengeProblemPage): string {
  const [title, text] = challengeProblemText[problem];
  return page(title, html`<h1>${title}</h1><p class="error">${text}</p><p>Nothing was changed.</p><p><a href="/tenants/new">Register your organisation</a></p>`);
}

export interface AdminsView {
  tenantName: string;
  domain: string;
  me: string;
  admins: string[];
  csrf: string;
}

/** What the admins page says above the list: a notice, or an error (about the address typed to add, with `field`). */
export interface AdminsMessage {
  kind: 'notice' | 'error';
  text: string;
  field?: 'email';
}

export function adminsPage(view: AdminsView, message?: AdminsMessage): string {
  const alone = view.admins.length === 1;
  const emailInvalid = message?.kind === 'error' && message.field === 'email';
  return page(
    errorTitle(`Admins of ${view.tenantName}`, message?.kind === 'error'),
    html`<h1>Admins of ${view.tenantName}</h1>
${message ? html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}" id="admins-message">${message.text}</p>` : ''}
<p>Admins of ${view.domain} can authorize partners, remove them, and manage this list. <a href="/partner-relationships">Back to Partner relationships</a></p>
<ul class="admins">${view.admins.map(
      (email) => html`<li><span class="wrap">${email}</span>${email === view.me ? ' (you)' : ''}${
        alone
          ? ''
          : html` <form method="post" action="/tenant-admins/remove" class="inline"><input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="email" value="${email}"><button type="submit" class="secondary" aria-label="Remove ${email}">Remove</button></form>`
      }</li>`,
    )}</ul>
${alone ? html`<p>You are the only admin; add another before you can remove yourself.</p>` : ''}
<h2>Add an admin</h2>
<form method="post" action="/tenant-admins">
<input type="hidden" name="csrf" value="${view.csrf}">
<p><label for="email">Email address</label><br><input id="email" name="email" type="email" required maxlength="254" autocomplete="off"${
      emailInvalid ? html` aria-describedby="admins-message" aria-invalid="true"` : ''
    }></p>
<p>We email them a link; they become an admin when they confirm.</p>
<button type="submit">Invite admin</button>
</form>`,
  );
}

export function confirmAdminPage(view: { token: string; tenantName: string; domain: string; email: string }): string {
  return page(
    'Confirm you are an admin',
    html`<h1>Become an admin of ${view.tenantName}</h1>
<p>You (${view.email}) were invited to administer partner relationships for ${view.tenantName} (${view.domain}).</p>
<form method="post" action="/tenant-admins/confirm/${view.token}"><button type="submit">Confirm</button></form>`,
  );
}

export function adminConfirmedPage(view: { tenantName: string; email: string }): string {
  return page(
    'You are an admin',
    html`<h1>You are an admin of ${view.tenantName}</h1>
<p class="notice" role="status">${view.email} can now authorize and remove partners for ${view.tenantName}.</p>
<p><a href="/partner-relationships">Sign in to Partner relationships</a></p>`,
  );
}

export function adminInviteProblemPage(problem: 'unknown' | 'expired' | 'used'): string {
  const text = {
    unknown: 'We do not know this link. Check that you opened the whole link from the email.',
    expired: 'This invitation has expired. Ask an admin to invite you again.',
    used: 'This invitation was already used.',
  }[problem];
  return page('This link does not work', html`<h1>This link does not work</h1><p class="error">${text}</p><p>Nothing was changed.</p>`);
}
