export {
  createGroupCommit,
  GroupCommitFull,
  type GroupCommit,
  type GroupCommitOptions,
} from './group-commit.js';
