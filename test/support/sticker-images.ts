import sharp from 'sharp';

/** Test images made by sharp at test time (no binary fixtures). */
const rgba = (r: number, g: number, b: number) => ({ r, g, b, alpha: 1 });

export function stillPng(width = 512, height = 512, color = rgba(30, 144, 255)): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: color } })
    .png()
    .toBuffer();
}

export function stillWebp(width = 512, height = 512, color = rgba(255, 140, 0)): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: color } })
    .webp()
    .toBuffer();
}

export function jpeg(width = 512, height = 512): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: rgba(0, 128, 0) } })
    .jpeg()
    .toBuffer();
}

/** The colours the frames of `animatedWebp` cycle through: red, green, blue, … */
export const FRAME_COLORS = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
] as const;

/** An animated WebP, looping forever, each frame one flat colour of FRAME_COLORS for `delayMs`. */
export async function animatedWebp(frames = 3, width = 512, height = 512, delayMs = 200): Promise<Buffer> {
  const pages = await Promise.all(
    Array.from({ length: frames }, (_, i) => {
      const [r, g, b] = FRAME_COLORS[i % FRAME_COLORS.length]!;
      return sharp({ create: { width, height, channels: 4, background: rgba(r, g, b) } })
        .raw()
        .toBuffer();
    }),
  );
  return sharp(Buffer.concat(pages), {
    raw: { width, height: height * frames, channels: 4, pageHeight: height },
  })
    .webp({ loop: 0, delay: Array.from({ length: frames }, () => delayMs), lossless: true })
    .toBuffer();
}

/** A PNG whose pixels are noise, so it does not compress: at least `width * height * 3` bytes. */
export function noisyPng(width = 512, height = 512): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}
