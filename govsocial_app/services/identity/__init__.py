"""Agency sign-in: single sign-on (oidc), two-factor (totp), sessions, and the admin's sign-in policy (policy).

Single sign-on: `oidc.begin_sign_in` -> the provider -> `oidc.complete_sign_in(query)` -> a session, or a typed error.
Password: auth checks the password -> `totp.start_challenge` -> `totp.complete_challenge(code)` -> a session.
Sessions: `sessions.list_sessions` / `revoke_session` / `revoke_all`; sign-out also asks `oidc.logout_url`.
Every step and every refusal writes an audit row; errors carry an English msgid the page translates.
"""
