/**
 * Validation messages that never echo a secret: AWS's Coral wording quotes the offending value
 * (`Value 'xyz' at 'secretString' failed to satisfy constraint …`); for members the model marks
 * sensitive (SSM's Value, Secrets Manager's SecretString) the value is replaced by `***`.
 */
import { coralValidationMessage, type ServiceModel, type ValidationProblem } from './model.js';

/** The member names whose shape is `sensitive` in the model (any structure). */
export function sensitiveMembers(model: ServiceModel): Set<string> {
  const out = new Set<string>();
  for (const shape of Object.values(model.shapes)) {
    for (const [name, ref] of Object.entries(shape.members ?? {})) if ((model.shapes[ref.shape] as { sensitive?: boolean } | undefined)?.sensitive) out.add(name.toLowerCase());
  }
  return out;
}

export function redactingValidationMessage(model: ServiceModel, word: (problems: ValidationProblem[]) => string = coralValidationMessage) {
  const sensitive = sensitiveMembers(model);
  return (problems: ValidationProblem[]): string =>
    word(
      problems.map((p) => {
        const member = p.where.split('.').filter((s) => s !== 'member' && !/^\d+$/.test(s)).pop() ?? '';
        return sensitive.has(member.toLowerCase()) ? { ...p, value: "'***'" } : p;
      }),
    );
}
