import type { AttachmentResolvers } from '../../__generated__/resolvers.js';

export const Attachment: AttachmentResolvers = {
  // Signed without the viewer (see createUrlSigner): the same for every member, so fan-out may
  // share a resolved message between subscribers.
  url: (a, _args, ctx) => ctx.deps.attachments.urls.url(a.id, 'original'),
  thumbnailUrl: (a, _args, ctx) =>
    a.thumbnailSize === null ? null : ctx.deps.attachments.urls.url(a.id, 'thumbnail'),
};
