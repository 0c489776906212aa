/**
 * An append-only TFRecord file, the container of TensorBoard event files. Each record is
 *   uint64 length (LE) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data.
 * Records are written whole with one synchronous write each, so a reader (or a crash) sees only whole records.
 */
import { closeSync, openSync, writeSync, fsyncSync } from "node:fs";
import { maskedCrc32c } from "./crc32c.js";

export class RecordFile {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
  }

  append(data: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    const record = Buffer.alloc(8 + 4 + data.length + 4);
    record.writeBigUInt64LE(BigInt(data.length), 0);
    record.writeUInt32LE(maskedCrc32c(record.subarray(0, 8)), 8);
    record.set(data, 12);
    record.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
    writeSync(this.fd, record);
  }

  /** Hands what was written to the disk (records already reach the OS on every append). */
  flush(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
