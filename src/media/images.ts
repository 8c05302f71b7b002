// Image work for attachments (sharp): the served original is re-encoded so no metadata (EXIF,
// GPS, XMP, comments) survives, with the EXIF orientation applied first; the thumbnail is a
// small WebP of the first frame.
import sharp from 'sharp';

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif';

/** Larger images are refused: decoding them would take too much memory (decompression bombs). */
export const MAX_IMAGE_PIXELS = 50_000_000;

export const THUMBNAIL_MAX_SIDE = 320;
export const THUMBNAIL_MAX_BYTES = 100_000;

export class UnreadableImageError extends Error {
  override name = 'UnreadableImageError';
}

const open = (input: string | Buffer, animated: boolean) =>
  sharp(input, {
    limitInputPixels: MAX_IMAGE_PIXELS,
    animated,
    // Applies the EXIF orientation, so the pixels stand upright without the tag.
    autoOrient: true,
    failOn: 'error',
  });

/**
 * Writes the image at `input` to `output` without metadata, in the same format; returns its size
 * in bytes and its dimensions (of one frame, for animations).
 */
export async function normaliseImage(
  input: string,
  output: string,
  type: ImageType,
): Promise<{ size: number; width: number; height: number }> {
  try {
    const animated = type === 'image/gif' || type === 'image/webp';
    let pipeline = open(input, animated);
    pipeline =
      type === 'image/jpeg'
        ? pipeline.jpeg({ quality: 90, mozjpeg: true })
        : type === 'image/png'
          ? pipeline.png({ compressionLevel: 9 })
          : type === 'image/webp'
            ? pipeline.webp({ quality: 90 })
            : pipeline.gif();
    const info = await pipeline.toFile(output);
    const height = info.pageHeight ?? info.height;
    return { size: info.size, width: info.width, height };
  } catch (err) {
    throw new UnreadableImageError(err instanceof Error ? err.message : String(err));
  }
}

/** A WebP of the first frame, at most 320 px on its long side and 100 KB. */
export async function makeThumbnail(input: string): Promise<Buffer> {
  try {
    for (const side of [THUMBNAIL_MAX_SIDE, 200, 120]) {
      for (const quality of [80, 60, 40, 20]) {
        const out = await open(input, false)
          .resize(side, side, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality })
          .toBuffer();
        if (out.length <= THUMBNAIL_MAX_BYTES) return out;
      }
    }
    throw new Error('no thumbnail fits in 100 KB');
  } catch (err) {
    throw new UnreadableImageError(err instanceof Error ? err.message : String(err));
  }
}
