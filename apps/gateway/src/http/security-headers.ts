import type { NextFunction, Request, Response } from 'express';
import { STRICT_TRANSPORT_SECURITY } from '../public-tls/public-tls';
import { isWebAppPath } from './web-app';

/** API answers are data, never pages: nothing may load, run, frame or submit from them. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Swagger UI at /docs is a page: its own scripts and the OpenAPI document from this origin,
 * inline styles (swagger-ui writes some) and data: images; still nothing from elsewhere, and
 * never in a frame.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web app's page: its own scripts, styles and connections only (no inline script or style,
 * nothing from elsewhere), data: images, never in a frame.
 */
export const WEB_APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function contentSecurityPolicy(path: string): string {
  if (isDocs(path)) return DOCS_CONTENT_SECURITY_POLICY;
  return isWebAppPath(path) ? WEB_APP_CONTENT_SECURITY_POLICY : API_CONTENT_SECURITY_POLICY;
}

function isDocs(path: string): boolean {
  return path === '/docs' || path.startsWith('/docs/');
}

/**
 * Security headers on every REST answer, set before any route runs so errors, unknown routes,
 * probes, /docs and downloads carry them too: `nosniff` (the contract), frame denial, a strict
 * CSP, and no referrer (download link URLs carry their token). HSTS only on an answer this
 * gateway sends over its own TLS (PUBLIC_TLS_*): over plaintext it would mean nothing, and a
 * forwarded header could claim https falsely.
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.path));
  res.setHeader('Referrer-Policy', 'no-referrer');
  if ('encrypted' in req.socket && req.socket.encrypted === true)
    res.setHeader('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
  next();
}
