import { CfnCondition, CfnParameter, Fn, Stack } from 'aws-cdk-lib';

/** An email address, or empty for none (CloudFormation checks it before it changes anything). */
export const EMAIL_PATTERN = '^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$';

/** Who gets the emails, as deploy-time values (`--parameters Email=... AlarmEmail=...`). */
export interface Recipients {
  /** The result emails' address (may be empty). */
  readonly email: string;
  /** The alarm (and budget) emails' address: AlarmEmail, or Email when AlarmEmail is empty. */
  readonly alarmEmail: string;
  /** True when Email is set. */
  readonly hasEmail: CfnCondition;
  /** True when either address is set. */
  readonly hasAlarmEmail: CfnCondition;
}

/**
 * The stack parameters `Email` and `AlarmEmail`. Parameters rather than context, so a synthesized
 * template (the CI artifact) holds no address, and each deploy keeps the values of the last one.
 */
export function addRecipients(stack: Stack): Recipients {
  const parameter = (id: string, description: string) => new CfnParameter(stack, id, {
    type: 'String',
    default: '',
    allowedPattern: EMAIL_PATTERN,
    constraintDescription: 'must be an email address, or empty',
    description,
  });
  const email = parameter('Email', 'Result emails go here (you confirm the subscription); empty: no subscription');
  const alarm = parameter('AlarmEmail', 'Alarm and budget emails go here; empty: the Email address');
  const emailGiven = Fn.conditionNot(Fn.conditionEquals(email.valueAsString, ''));
  const alarmGiven = Fn.conditionNot(Fn.conditionEquals(alarm.valueAsString, ''));
  const hasEmail = new CfnCondition(stack, 'HasEmail', { expression: emailGiven });
  const hasOwnAlarmEmail = new CfnCondition(stack, 'HasOwnAlarmEmail', { expression: alarmGiven });
  const hasAlarmEmail = new CfnCondition(stack, 'HasAlarmEmail', { expression: Fn.conditionOr(emailGiven, alarmGiven) });
  return {
    email: email.valueAsString,
    alarmEmail: Fn.conditionIf(hasOwnAlarmEmail.logicalId, alarm.valueAsString, email.valueAsString).toString(),
    hasEmail,
    hasAlarmEmail,
  };
}
