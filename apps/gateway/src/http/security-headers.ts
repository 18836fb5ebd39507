import type { NextFunction, Request, Response } from 'express';
import { STRICT_TRANSPORT_SECURITY } from '../public-tls/public-tls';

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
  res.setHeader('Content-Security-Policy', isDocs(req.path) ? DOCS_CONTENT_SECURITY_POLICY : API_CONTENT_SECURITY_POLICY);
  res.setHeader('Referrer-Policy', 'no-referrer');
  if ('encrypted' in req.socket && req.socket.encrypted === true)
    res.setHeader('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
  next();
}
