import { describe, expect, it } from 'vitest';
import { passwordFromSecret } from '../src/DatabaseConnector.js';
import { DatabasePasswordError } from '../src/errors.js';

describe('passwordFromSecret', () => {
  it('takes a plain secret as the password, and `password` from a JSON one', () => {
    expect(passwordFromSecret('db', 's3cr3t {not json')).toBe('s3cr3t {not json');
    expect(passwordFromSecret('db', '{"username":"ghost","password":"s3cr3t"}')).toBe('s3cr3t');
  });

  it('says what is wrong with a JSON secret without quoting it', () => {
    const broken = () => passwordFromSecret('db', '{"password": s3cr3t');
    expect(broken).toThrow(DatabasePasswordError);
    expect(broken).toThrow("Secret 'db' starts like JSON but is not valid JSON");
    expect(broken).not.toThrow(/s3cr3t/);
    expect(() => passwordFromSecret('db', '{"username":"ghost"}')).toThrow("JSON without a string 'password' key");
  });
});
