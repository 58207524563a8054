// The microphone, resampled to 16 kHz mono float32 and posted in 20 ms chunks (320 samples).
// The page asks for a 16 kHz AudioContext; where the browser runs another rate, this resamples
// linearly (speech needs nothing finer for lip sync).
const RATE = 16000, CHUNK = 320;

class TalkstyleMic extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / RATE;      // input samples per output sample
    this.pos = 0;                       // position of the next output sample in this block's input
    this.prev = 0;
    this.buf = new Float32Array(CHUNK);
    this.n = 0;
  }
  emit(x) {
    this.buf[this.n++] = x;
    if (this.n === CHUNK) { this.port.postMessage(this.buf.slice(0)); this.n = 0; }
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    if (this.step === 1) { for (let i = 0; i < ch.length; i++) this.emit(ch[i]); return true; }
    // Input sample j sits at position j, the previous block's last one at -1.
    while (this.pos < ch.length - 1) {
      const i = Math.floor(this.pos), f = this.pos - i;
      const a = i < 0 ? this.prev : ch[i], b = ch[i + 1];
      this.emit(a + (b - a) * f);
      this.pos += this.step;
    }
    this.pos -= ch.length;
    this.prev = ch[ch.length - 1];
    return true;
  }
}
registerProcessor('talkstyle-mic', TalkstyleMic);
