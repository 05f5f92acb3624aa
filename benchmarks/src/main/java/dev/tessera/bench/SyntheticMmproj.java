package dev.tessera.bench;

import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes an mmproj GGUF in llama.cpp's legacy LLaVA-1.5 layout (FORMATS.md §4.2) with random
 * weights: a CLIP vision tower (matrices F16, the rest F32, fc1/fc2 under the swapped names the
 * real files use) and the mlp projector. For speed and memory measurements at real sizes.
 */
public final class SyntheticMmproj {
    /** Vision tower and projector sizes. */
    public record Shape(int imageSize, int patch, int width, int ffn, int heads, int blocks, int projHidden, int projOut) {
        /** LLaVA-1.5-7B: ViT-L/14-336 with 23 stored blocks, projector 1024 -> 4096 -> 4096. */
        public static final Shape LLAVA15_7B = new Shape(336, 14, 1024, 4096, 16, 23, 4096, 4096);
    }

    private SyntheticMmproj() {}

    public static void write(Path out, Shape s) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            int big = Math.max(Math.max(s.ffn(), s.projHidden()), s.projOut());
            // One pool of random F16 values, sliced for every matrix (σ = 1/√fan-in keeps activations bounded).
            Tensor pool = random(arena, DType.F16, (long) big * Math.max(big, s.width()), 0.02f, 1);
            Tensor vec = random(arena, DType.F32, big, 0.02f, 2);
            MemorySegment onesSeg = arena.allocate((long) big * 4, 64);
            for (int i = 0; i < big; i++) {
                onesSeg.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f);
            }
            Tensor ones = Tensor.wrap(DType.F32, onesSeg, big);
            GgufWriter w = new GgufWriter();
            w.putString("general.architecture", "clip");
            w.putString("general.name", "synthetic-llava-mmproj");
            w.putUInt32("general.file_type", 1);
            w.putBoolean("clip.has_text_encoder", false);
            w.putBoolean("clip.has_vision_encoder", true);
            w.putBoolean("clip.has_llava_projector", true);
            w.putString("clip.projector_type", "mlp");
            w.putUInt32("clip.vision.image_size", s.imageSize());
            w.putUInt32("clip.vision.patch_size", s.patch());
            w.putUInt32("clip.vision.embedding_length", s.width());
            w.putUInt32("clip.vision.feed_forward_length", s.ffn());
            w.putUInt32("clip.vision.projection_dim", 768);
            w.putUInt32("clip.vision.attention.head_count", s.heads());
            w.putFloat32("clip.vision.attention.layer_norm_epsilon", 1e-5f);
            w.putUInt32("clip.vision.block_count", s.blocks());
            w.put("clip.vision.image_mean", GgufArray.ofFloat32(0.48145466f, 0.4578275f, 0.40821073f));
            w.put("clip.vision.image_std", GgufArray.ofFloat32(0.26862954f, 0.26130258f, 0.27577711f));
            w.putBoolean("clip.use_gelu", false);
            int tokens = (s.imageSize() / s.patch()) * (s.imageSize() / s.patch()) + 1;
            w.addTensor("v.class_embd", vec.slice(0, 0, s.width()));
            w.addTensor("v.patch_embd.weight", matrix(pool, (long) s.width() * 3 * s.patch() * s.patch()).reshape(s.width(), 3, s.patch(), s.patch()));
            w.addTensor("v.position_embd.weight", matrix(pool, (long) tokens * s.width()).reshape(tokens, s.width()));
            w.addTensor("v.pre_ln.weight", ones.slice(0, 0, s.width()));
            w.addTensor("v.pre_ln.bias", vec.slice(0, 0, s.width()));
            for (int i = 0; i < s.blocks(); i++) {
                String b = "v.blk." + i + ".";
                for (String n : new String[] {"attn_q", "attn_k", "attn_v", "attn_out"}) {
                    w.addTensor(b + n + ".weight", matrix(pool, (long) s.width() * s.width()).reshape(s.width(), s.width()));
                    w.addTensor(b + n + ".bias", vec.slice(0, 0, s.width()));
                }
                for (String n : new String[] {"ln1", "ln2"}) {
                    w.addTensor(b + n + ".weight", ones.slice(0, 0, s.width()));
                    w.addTensor(b + n + ".bias", vec.slice(0, 0, s.width()));
                }
                w.addTensor(b + "ffn_down.weight", matrix(pool, (long) s.ffn() * s.width()).reshape(s.ffn(), s.width()));
                w.addTensor(b + "ffn_down.bias", vec.slice(0, 0, s.ffn()));
                w.addTensor(b + "ffn_up.weight", matrix(pool, (long) s.width() * s.ffn()).reshape(s.width(), s.ffn()));
                w.addTensor(b + "ffn_up.bias", vec.slice(0, 0, s.width()));
            }
            w.addTensor("mm.0.weight", matrix(pool, (long) s.projHidden() * s.width()).reshape(s.projHidden(), s.width()));
            w.addTensor("mm.0.bias", vec.slice(0, 0, s.projHidden()));
            w.addTensor("mm.2.weight", matrix(pool, (long) s.projOut() * s.projHidden()).reshape(s.projOut(), s.projHidden()));
            w.addTensor("mm.2.bias", vec.slice(0, 0, s.projOut()));
            w.write(out);
        }
    }

    private static Tensor matrix(Tensor pool, long n) {
        return pool.slice(0, 0, n);
    }

    private static Tensor random(Arena arena, DType type, long n, float sigma, long seed) {
        Tensor t = Tensor.allocate(arena, type, n);
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment seg = t.segment();
        for (long i = 0; i < n; i++) {
            float v = (float) ((r.nextDouble() * 2 - 1) * sigma * 1.7320508);
            if (type == DType.F16) {
                seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v));
            } else {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
            }
        }
        return t;
    }
}
