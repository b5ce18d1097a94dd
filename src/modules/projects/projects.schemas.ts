import { Type } from 'typebox';
import { PageQuery } from '../../http/pagination.ts';
import { Timestamp } from '../../http/schemas.ts';
import { PROJECT_NAME_PATTERN } from './projects.service.ts';

export const Project = Type.Object({
  slug: Type.String({ description: '<vcs>/<account>/<name>' }),
  vcs_type: Type.Union([Type.Literal('gh'), Type.Literal('bb')]),
  account: Type.String(),
  name: Type.String(),
  url: Type.String(),
  created_at: Timestamp,
});

export const NewProjectBody = Type.Object(
  {
    vcs_type: Type.String({ minLength: 1, maxLength: 16, description: 'gh (also github) or bb (also bitbucket)' }),
    name: Type.String({ minLength: 1, maxLength: 100, pattern: PROJECT_NAME_PATTERN }),
  },
  { additionalProperties: false },
);

export const ProjectParams = Type.Object({
  vcs: Type.String({ minLength: 1, maxLength: 16 }),
  account: Type.String({ minLength: 1, maxLength: 39 }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
});

export const ProjectListQuery = Type.Object(PageQuery, { additionalProperties: false });
