/** Whether anything (file, folder, link target) exists at `path`. */
import { stat } from "node:fs/promises";

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
