"""Golden token ids for Tessera's CLIP tokenizer (dev.tessera.model.clip.ClipTokenizer).

Implements the rules of OpenAI's CLIP `simple_tokenizer.py` (written here from those rules):
clean-up = ftfy.fix_text, html.unescape twice, strip, collapse \\s+ to one space, strip,
lower(); split with the `regex` pattern below (IGNORECASE); byte-to-unicode symbols, BPE
with the first 48894 merges ranked by position; vocab = 256 bytes + 256 bytes with </w> +
merges + <|startoftext|> + <|endoftext|>.

Needs the `ftfy` and `regex` packages. Debian has neither; this machine keeps their wheels
in /opt/pypi/files, so run for example:
    mkdir -p /tmp/clip-py && cd /tmp/clip-py && for w in ftfy regex wcwidth; do
        /usr/bin/python3 -m zipfile -e /opt/pypi/files/$w-*.whl . ; done
    PYTHONPATH=/tmp/clip-py /usr/bin/python3 tools/goldens/clip_tokenizer_goldens.py
Outputs (TSV, UTF-8, one case per line; text escaped with \\\\ \\t \\n \\r):
    java-api/src/test/resources/goldens/clip/tokenizer.tsv   text <TAB> ids <TAB> context ids
    java-api/src/test/resources/goldens/clip/html_entities.tsv   reference <TAB> html.unescape(reference)
"""
import gzip
import html
import os
import sys

import ftfy
import regex

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VOCAB = os.path.join(ROOT, "java-api/src/main/resources/dev/tessera/model/clip/bpe_simple_vocab_16e6.txt.gz")
OUT = os.path.join(ROOT, "java-api/src/test/resources/goldens/clip")

PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE)


def byte_symbols():
    printable = [b for b in range(256) if 33 <= b <= 126 or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    table = {b: chr(b) for b in printable}
    order = list(printable)
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
            order.append(b)
    return table, order


class Reference:
    def __init__(self):
        self.sym, order = byte_symbols()
        self.unsym = {c: b for b, c in self.sym.items()}
        lines = gzip.open(VOCAB).read().decode("utf-8").split("\n")
        merges = [tuple(l.split()) for l in lines[1:49152 - 256 - 2 + 1]]
        assert len(merges) == 48894
        vocab = [self.sym[b] for b in order]
        vocab += [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        assert len(vocab) == 49408
        self.vocab = vocab
        self.ids = {v: i for i, v in enumerate(vocab)}
        self.rank = {m: i for i, m in enumerate(merges)}

    def bpe(self, piece):
        if piece in ("<|startoftext|>", "<|endoftext|>"):
            return [piece]
        word = list(piece[:-1]) + [piece[-1] + "</w>"]
        while len(word) > 1:
            ranked = [(self.rank[p], p) for p in zip(word, word[1:]) if p in self.rank]
            if not ranked:
                break
            a, b = min(ranked)[1]
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        return word

    @staticmethod
    def clean(text):
        text = ftfy.fix_text(text)
        text = html.unescape(html.unescape(text)).strip()
        text = regex.sub(r"\s+", " ", text).strip()
        return text.lower()

    def encode(self, text):
        ids = []
        for piece in PATTERN.findall(self.clean(text)):
            symbols = "".join(self.sym[b] for b in piece.encode("utf-8"))
            ids += [self.ids[s] for s in self.bpe(symbols)]
        return ids

    def context(self, text, n=77):
        toks = [49406] + self.encode(text) + [49407]
        if len(toks) > n:
            toks = toks[:n]
            toks[-1] = 49407
        return toks + [0] * (n - len(toks))


CASES = [
    "a photo of a cat",
    "A Photo Of A DOG.",
    "",
    "   ",
    "hello, world! how's it going?",
    "I'm sure they'll say we've done what you'd expect; it's John's, isn't it?",
    "DON'T SHOUT, I'M HERE",
    "rock'n'roll o'clock 'quoted'",
    "don\u2019t \u201ccurly\u201d \u2018quotes\u2019",
    "1234567890 3.14159 1,000,000 2nd 21st 100%",
    "\u0661\u0662\u0663 \u00bd \u2167 \u00b2",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber stra\u00dfe",
    "cafe\u0301 (decomposed e + combining acute)",
    "\u4e00\u5f20\u732b\u7684\u7167\u7247",
    "\u732b cat \u72d7 dog",
    "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "emoji \U0001F600\U0001F431 \u2764\ufe0f \U0001F44D\U0001F3FD flags \U0001F1EF\U0001F1F5",
    "\U0001F468\u200d\U0001F469\u200d\U0001F467 family",
    "fish &amp; chips &lt;b&gt; &quot;q&quot; &#39;s &#x41;&#66; &eacute;t&eacute;",
    "double &amp;amp; escaped &amp;lt;tag&amp;gt;",
    "legacy &ampfoo &copy2024 &notit; &nbsp;x &unknown; & alone &#128; &#0; &#xD800; &#1114112;",
    "&EACUTE;T&EACUTE; &SZLIG; &hellip; &mdash; &rsquo;s",
    "<b>bold &rsquo; stays curly</b> &rsquo;",
    "line one\nline two\r\nline three\tTabbed\u00a0nbsp\u2003em\u3000ideo",
    "multiple     spaces\n\n\nand\t\tnewlines  ",
    "\ufb01ne \ufb02ower \uff21\uff22\uff23\uff11\uff12\uff13 \uff01",
    "control\u0007chars\u200bzero\ufeffwidth",
    "c1 \u0092s \u0093smart\u0094",
    "<|startoftext|>hi<|endoftext|> <|ENDOFTEXT|>",
    "snake_case kebab-case dots.and.slashes/path\\back @user #hashtag $5 a+b=c",
    "!!!??? ... --- *** ~~~ ``` ((( ]]]",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x",
    "'s",
    "\u00df \u0130stanbul \u0131",
    # Final sigma as CPython decides it (the JDK's own rule differs on these).
    "\u03a3\u03a3.'m \u039f\u0394\u039f\u03a3. \u0391\u03a3:\u0392 \u03a3",
    "[\u0644\u0393\u0628\u03a3-\u2014 \u0391\u0391\u201c\u03a3\u00a09",
    # U+0345 (combining ypogegrammeni) matches no alternative under IGNORECASE and is dropped.
    "n\u0386\u0345Q\u0131\u0131\ufb01\u03a3. \u1fb3 \u1fbc x \u0345 y",
    "\u01c5 \u01c4 \u1e9e \u2167 \u2460 \u00b2",
    "a diagram of the transformer architecture with multi-head self-attention, "
    "layer normalization and a feed-forward network, rendered as a detailed technical "
    "illustration with labels, arrows and colour coding for every component of the encoder and decoder",
    " ".join(str(i) for i in range(60)),
    "word " * 76,
    "word " * 75,
    "word " * 74,
]


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# Entity names the Java cleaner knows; the test checks its table against Python's html.unescape.
LATIN1 = ("nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn "
          "sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave "
          "Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml "
          "ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN "
          "szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute "
          "icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml "
          "yacute thorn yuml amp lt gt quot AMP LT GT QUOT COPY REG").split()
EXTRA = ("apos hellip mdash ndash lsquo rsquo sbquo ldquo rdquo bdquo lsaquo rsaquo bull trade euro "
         "dagger Dagger permil oelig OElig scaron Scaron Yuml fnof circ tilde ensp emsp thinsp zwnj zwj "
         "lrm rlm prime Prime larr rarr uarr darr harr minus infin ne le ge hearts star check").split()


def main():
    ref = Reference()
    # Sanity: the BPE pieces decode back to the cleaned text.
    with open(os.path.join(OUT, "tokenizer.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by tools/goldens/clip_tokenizer_goldens.py (ftfy %s, regex %s)\n"
                % (ftfy.__version__, regex.__version__))
        for text in CASES:
            ids = ref.encode(text)
            ctx = ref.context(text)
            f.write("%s\t%s\t%s\n" % (esc(text), " ".join(map(str, ids)), " ".join(map(str, ctx))))
    with open(os.path.join(OUT, "html_entities.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by tools/goldens/clip_tokenizer_goldens.py: reference, Python html.unescape\n")
        for name in LATIN1:
            for ref_text in ("&" + name + ";", "&" + name):
                f.write("%s\t%s\n" % (esc(ref_text), esc(html.unescape(ref_text))))
        for name in EXTRA:
            ref_text = "&" + name + ";"
            value = html.unescape(ref_text)
            assert value != ref_text, name
            f.write("%s\t%s\n" % (esc(ref_text), esc(value)))
    print("wrote %d tokenizer cases" % len(CASES), file=sys.stderr)


if __name__ == "__main__":
    main()
