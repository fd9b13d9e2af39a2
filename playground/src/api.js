// GraphQL over HTTP (POST /graphql) with the bearer token.
import { getToken, reportUnauthenticated } from './auth.js';

/** The server root: the page lives at `<root>/playground/`, the API at `<root>/graphql` etc. */
export const apiUrl = (path) => new URL(`../${path}`, location.href).href;

export class ApiError extends Error {
  constructor(message, code = 'ERROR', errors = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.errors = errors;
  }
}

const codeOf = (error) => error?.extensions?.code || 'ERROR';

/**
 * Sends a query; returns `{ data, errors }` without throwing on field errors
 * (e.g. `playUrl` answering NOT_PLAYABLE). Throws ApiError for transport
 * failures and for UNAUTHENTICATED (after asking for a new token).
 */
export async function request(query, variables = {}) {
  let res;
  const token = getToken();
  try {
    res = await fetch(apiUrl('graphql'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: token ? `Bearer ${token}` : '' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`Cannot reach the Reel server (${err.message || 'network error'}).`, 'NETWORK');
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: handled below */
  }
  if (res.status === 401 || body?.errors?.some((e) => codeOf(e) === 'UNAUTHENTICATED')) {
    const reason = body?.message || body?.errors?.[0]?.message || 'the token was refused';
    reportUnauthenticated(reason, token);
    throw new ApiError(`Not signed in: ${reason}.`, 'UNAUTHENTICATED', body?.errors || []);
  }
  if (!body || (!body.data && !body.errors)) {
    const reason = body?.message || `${res.status} ${res.statusText}`.trim();
    throw new ApiError(`The server answered ${reason}.`, res.status === 503 ? 'UNAVAILABLE' : 'HTTP');
  }
  return { data: body.data || null, errors: body.errors || [] };
}

/** Like `request`, but any error is thrown (ApiError with the first error's code). */
export async function gql(query, variables = {}) {
  const { data, errors } = await request(query, variables);
  if (errors.length) {
    throw new ApiError(errors.map((e) => e.message).join('; '), codeOf(errors[0]), errors);
  }
  return data;
}

export const VIDEO_FIELDS = `
  fragment CardFields on Video {
    id parentId sourceName status progress error fileSize duration videoWidth videoHeight
    createTime updateTime imageCount kind encrypted
    mediaInfo {
      format duration bitRate
      video { codec profile width height fps rotation pixelFormat bitRate }
      audio { codec channels sampleRate bitRate }
    }
    renditions { id definition videoWidth videoHeight fileSize }
    cover { url }
  }
`;

export const LIST_VIDEOS = `
  query Videos($first: Int, $after: String) {
    videos(first: $first, after: $after) {
      edges { cursor node { ...CardFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${VIDEO_FIELDS}
`;

export const GET_VIDEO = `
  query Video($id: ID!) { video(id: $id) { ...CardFields } }
  ${VIDEO_FIELDS}
`;

export const PLAYER_VIDEO = `
  query PlayerVideo($id: ID!, $cdn: String) {
    video(id: $id) {
      id sourceName status duration videoWidth videoHeight imageCount sprite thumbnails kind encrypted
      renditions { definition videoWidth videoHeight }
      textTracks { id language name kind default url }
      audioTracks { language name default }
      snapshots { imageIndex url width height }
      playUrl(cdn: $cdn) { url cdn expiresAt fallbacks { cdn url } definitions { definition url } }
    }
  }
`;

export const DELETE_VIDEO = `mutation Delete($id: ID!) { deleteVideo(id: $id) }`;
export const RETRANSCODE = `mutation Retranscode($id: ID!) { retranscode(id: $id) { id status progress error } }`;
export const ADD_TEXT_TRACK = `
  mutation AddTextTrack($videoId: ID!, $language: String!, $name: String, $kind: TextTrackKind, $isDefault: Boolean, $content: String) {
    addTextTrack(videoId: $videoId, language: $language, name: $name, kind: $kind, default: $isDefault, content: $content) {
      id language name kind default url
    }
  }
`;
export const DELETE_TEXT_TRACK = `mutation DeleteTextTrack($id: ID!) { deleteTextTrack(id: $id) }`;
export const PING = `query Ping { videos(first: 1) { pageInfo { hasNextPage } } }`;
export const VIDEO_EVENTS = `subscription Events { videoEvents { videoId status progress error deleted at } }`;
