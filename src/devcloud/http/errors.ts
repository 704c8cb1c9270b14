import { STATUS_CODES } from 'node:http';

/** Error body formats of the emulated services; each real service shapes its errors differently. */
export type ErrorStyle = 'nova' | 'keystone' | 'glance' | 'neutron';

/** Nova's fault element per status code; any other status is a computeFault. */
const novaFaultNames: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/**
 * An error response. Handlers throw it; the server renders it in the style of
 * the service that handled the request.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly options: {
      headers?: Record<string, string>;
      /** Neutron's exception type name, such as NetworkNotFound. */
      neutronType?: string;
    } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A rendered error: status, headers and the body bytes. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Renders an ApiError in the body format of the given service. */
export function renderError(
  error: ApiError,
  style: ErrorStyle,
  accept: string | undefined,
): RenderedError {
  const headers: Record<string, string> = { ...(error.options.headers ?? {}) };
  const title = STATUS_CODES[error.status] ?? 'Error';
  let body: unknown;

  switch (style) {
    case 'nova': {
      const fault: Record<string, unknown> = { code: error.status, message: error.message };
      const retryAfter = headers['Retry-After'];
      if ((error.status === 413 || error.status === 429) && retryAfter !== undefined)
        fault.retryAfter = retryAfter;
      body = { [novaFaultNames[error.status] ?? 'computeFault']: fault };
      break;
    }
    case 'keystone':
      body = { error: { code: error.status, message: error.message, title } };
      break;
    case 'neutron':
      body = {
        NeutronError: {
          type: error.options.neutronType ?? title.replace(/\s+/g, ''),
          message: error.message,
          detail: '',
        },
      };
      break;
    case 'glance':
      // Glance returns webob error pages: JSON when the client accepts it, plain text otherwise.
      if (accept?.includes('application/json')) {
        // webob's JSON error page keeps the line breaks of its HTML template; Glance 25 returns them too.
        body = {
          message: `${error.message}<br /><br />\n\n\n`,
          code: `${error.status} ${title}`,
          title,
        };
      } else {
        headers['Content-Type'] = 'text/plain; charset=UTF-8';
        return {
          status: error.status,
          headers,
          body: `${error.status} ${title}\n\n${error.message}\n\n   `,
        };
      }
      break;
  }
  headers['Content-Type'] = 'application/json';
  return { status: error.status, headers, body: JSON.stringify(body) };
}

/** 400 in Nova's wording for a request that failed validation. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}

/** 404 with the service's message text for a missing resource. */
export function notFound(message: string, neutronType?: string): ApiError {
  return new ApiError(404, message, neutronType ? { neutronType } : {});
}

/** 409 for a request that conflicts with the resource's current state. */
export function conflict(message: string): ApiError {
  return new ApiError(409, message);
}
